import { describe, expect, it } from "vitest";
import { packPixelWrites, SPAN_MAX_GAP_PIXELS } from "./pack-pixel-writes.js";

describe("packPixelWrites", () => {
  it("packs far-apart pixels as one-pixel runs: offset (3 bytes), length and count (2 bytes each), R, G, B", () => {
    const packed = packPixelWrites([{ x: 9, y: 9, color: 0xa1b2c3 }, { x: 0, y: 0, color: 0x010203 }], 10, 10);
    const offset = 99 * 3;
    expect([...packed]).toEqual([0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 0, offset >> 8, offset & 0xff, 0, 1, 0, 1, 0xa1, 0xb2, 0xc3]);
  });

  it("merges adjacent pixels into one run and keeps the last colour of a repeated pixel", () => {
    const packed = packPixelWrites([{ x: 5, y: 1, color: 0x050505 }, { x: 4, y: 1, color: 0x040404 }, { x: 5, y: 1, color: 0x0a0a0a }, { x: 6, y: 1, color: 0x060606 }], 10, 10);
    expect([...packed]).toEqual([0, 0, 14 * 3, 0, 3, 0, 3, 4, 4, 4, 10, 10, 10, 6, 6, 6]);
  });

  it("packs nearby pixels with gaps as one sparse span with each pixel's index in it", () => {
    const packed = packPixelWrites([{ x: 2, y: 0, color: 0x0000aa }, { x: 2 + SPAN_MAX_GAP_PIXELS + 1, y: 0, color: 0x0000bb }], 100, 1);
    const span = SPAN_MAX_GAP_PIXELS + 2;
    expect([...packed]).toEqual([0, 0, 6, 0, span, 0, 2, 0, 0, 0, 0, 0xaa, 0, span - 1, 0, 0, 0xbb]);
  });

  it("starts a new span when the gap is larger than SPAN_MAX_GAP_PIXELS", () => {
    const packed = packPixelWrites([{ x: 0, y: 0, color: 1 }, { x: SPAN_MAX_GAP_PIXELS + 2, y: 0, color: 2 }], 100, 1);
    expect(packed.length).toBe(2 * (7 + 3));
  });

  it("refuses a pixel outside the canvas instead of writing elsewhere", () => {
    expect(() => packPixelWrites([{ x: 10, y: 0, color: 1 }], 10, 10)).toThrow(RangeError);
  });
});
