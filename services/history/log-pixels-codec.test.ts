import { describe, expect, it } from "vitest";
import { decodeLogPixels, encodeLogPixels, LOG_PIXEL_BYTES } from "./log-pixels-codec.js";

describe("log pixels codec", () => {
  it("packs x, y, colour and previous colour in 10 bytes per pixel and unpacks them in order", () => {
    const pixels = [{ x: 8191, y: 0, color: 0xffffff, previousColor: 0 }, { x: 1, y: 8191, color: 0x123456, previousColor: 0xabcdef }];
    const bytes = encodeLogPixels(pixels);
    expect(bytes.length).toBe(2 * LOG_PIXEL_BYTES);
    expect([...bytes.subarray(0, LOG_PIXEL_BYTES)]).toEqual([0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0]);
    expect(decodeLogPixels(bytes)).toEqual(pixels);
    expect(decodeLogPixels(new Uint8Array(0))).toEqual([]);
  });

  it("refuses a column that is not a whole number of pixels", () => {
    expect(() => decodeLogPixels(new Uint8Array(11))).toThrow(RangeError);
  });
});
