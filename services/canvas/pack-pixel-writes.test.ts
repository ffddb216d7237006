import { describe, expect, it } from "vitest";
import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { packPixelWrites, previousColorOrder, SPAN_MAX_GAP_PIXELS, TILE_HEADER_BYTES } from "./pack-pixel-writes.js";

/** A tile group header: column, row, the tile's byte length (3 bytes), the group's byte length (4 bytes). */
function group(tx: number, ty: number, tileBytes: number, groupBytes: number): number[] {
  return [tx >> 8, tx & 0xff, ty >> 8, ty & 0xff, tileBytes >> 16, (tileBytes >> 8) & 0xff, tileBytes & 0xff, 0, 0, groupBytes >> 8, groupBytes & 0xff];
}

describe("packPixelWrites", () => {
  it("packs far-apart pixels as one-pixel runs: offset (3 bytes), length and count (2 bytes each), R, G, B, in one tile group", () => {
    const packed = packPixelWrites([{ x: 9, y: 9, color: 0xa1b2c3 }, { x: 0, y: 0, color: 0x010203 }], 10, 10);
    const offset = 99 * 3;
    expect([...packed]).toEqual([...group(0, 0, 300, 20), 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 0, offset >> 8, offset & 0xff, 0, 1, 0, 1, 0xa1, 0xb2, 0xc3]);
  });

  it("merges adjacent pixels into one run and keeps the last colour of a repeated pixel", () => {
    const packed = packPixelWrites([{ x: 5, y: 1, color: 0x050505 }, { x: 4, y: 1, color: 0x040404 }, { x: 5, y: 1, color: 0x0a0a0a }, { x: 6, y: 1, color: 0x060606 }], 10, 10);
    expect([...packed]).toEqual([...group(0, 0, 300, 16), 0, 0, 14 * 3, 0, 3, 0, 3, 4, 4, 4, 10, 10, 10, 6, 6, 6]);
  });

  it("packs nearby pixels with gaps as one sparse span with each pixel's index in it", () => {
    const packed = packPixelWrites([{ x: 2, y: 0, color: 0x0000aa }, { x: 2 + SPAN_MAX_GAP_PIXELS + 1, y: 0, color: 0x0000bb }], 100, 1);
    const span = SPAN_MAX_GAP_PIXELS + 2;
    expect([...packed]).toEqual([...group(0, 0, 300, 17), 0, 0, 6, 0, span, 0, 2, 0, 0, 0, 0, 0xaa, 0, span - 1, 0, 0, 0xbb]);
  });

  it("starts a new span when the gap is larger than SPAN_MAX_GAP_PIXELS", () => {
    const packed = packPixelWrites([{ x: 0, y: 0, color: 1 }, { x: SPAN_MAX_GAP_PIXELS + 2, y: 0, color: 2 }], 100, 1);
    expect(packed.length).toBe(TILE_HEADER_BYTES + 2 * (7 + 3));
  });

  it("groups pixels by tile in row-major tile order, with offsets within each tile and the last column and row clipped", () => {
    const width = TILE_SIZE + 10;
    const height = TILE_SIZE + 4;
    const packed = packPixelWrites([{ x: TILE_SIZE + 1, y: TILE_SIZE, color: 0x030303 }, { x: TILE_SIZE, y: 1, color: 0x020202 }, { x: 1, y: 0, color: 0x010101 }], width, height);
    const run = (offset: number, c: number) => [offset >> 16, (offset >> 8) & 0xff, offset & 0xff, 0, 1, 0, 1, c, c, c];
    expect([...packed]).toEqual([
      ...group(0, 0, TILE_SIZE * TILE_SIZE * 3, 10), ...run(3, 1),
      ...group(1, 0, 10 * TILE_SIZE * 3, 10), ...run(10 * 3, 2),
      ...group(1, 1, 10 * 4 * 3, 10), ...run(3, 3),
    ]);
  });

  it("refuses a pixel outside the canvas instead of writing elsewhere", () => {
    expect(() => packPixelWrites([{ x: 10, y: 0, color: 1 }], 10, 10)).toThrow(RangeError);
  });
});

describe("previousColorOrder", () => {
  it("maps each pixel to its rank among the distinct pixels in packed order (by tile, then row-major), or to the colour its earlier placement in the run wrote", () => {
    const width = TILE_SIZE + 4;
    // Packed order: tile 0 (0,1) then (3,1), then tile 1 (TILE_SIZE, 0).
    const order = previousColorOrder([{ x: TILE_SIZE, y: 0, color: 7 }, { x: 3, y: 1, color: 8 }, { x: 0, y: 1, color: 9 }, { x: 3, y: 1, color: 0xabcdef }, { x: 3, y: 1, color: 1 }], width, 2);
    expect([...order]).toEqual([0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 8, 1, 0xab, 0xcd, 0xef]);
  });
});
