import { describe, expect, it } from "vitest";
import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { backgroundTile, decodeTilePng, encodeTilePng, uniformColor } from "./tile-codec.js";

/** A tile of drawn pixel art: blocks of a few colours on white, deterministic. */
function drawnTile(width: number, height: number): Uint8Array {
  const pixels = backgroundTile(width, height);
  for (let i = 0; i < 400; i++) {
    const x = (i * 37) % width;
    const y = (i * 101) % height;
    for (let k = 0; k < 6 && x + k < width; k++) pixels.set([(i * 53) & 0xff, (i * 97) & 0xff, (i * 151) & 0xff], (y * width + x + k) * 3);
  }
  return pixels;
}

describe("tile codec", () => {
  it("round-trips a drawn tile through PNG byte for byte, clipped sizes included", () => {
    for (const [w, h] of [[TILE_SIZE, TILE_SIZE], [37, 5]] as const) {
      const pixels = drawnTile(w, h);
      const decoded = decodeTilePng(encodeTilePng(pixels, w, h));
      expect([decoded.width, decoded.height]).toEqual([w, h]);
      expect(Buffer.from(decoded.pixels).equals(pixels)).toBe(true);
    }
  });

  it("encodes a never-painted tile and a tile of one colour as a PNG under 200 bytes that decodes to that colour", () => {
    const blank = encodeTilePng(undefined, TILE_SIZE, TILE_SIZE);
    expect(blank.length).toBeLessThan(200);
    expect(Buffer.from(decodeTilePng(blank).pixels).equals(backgroundTile(TILE_SIZE, TILE_SIZE))).toBe(true);
    const red = new Uint8Array(TILE_SIZE * TILE_SIZE * 3);
    for (let i = 0; i < red.length; i += 3) red[i] = 0xff;
    const png = encodeTilePng(red, TILE_SIZE, TILE_SIZE);
    expect(png.length).toBeLessThan(200);
    expect(Buffer.from(decodeTilePng(png).pixels).equals(red)).toBe(true);
    // An odd width pads each row of 1-bit indexes to whole bytes.
    expect(Buffer.from(decodeTilePng(encodeTilePng(undefined, 13, 3)).pixels).equals(backgroundTile(13, 3))).toBe(true);
  });

  it("tells a tile of one colour from one of several", () => {
    expect(uniformColor(backgroundTile(4, 4))).toEqual([0xff, 0xff, 0xff]);
    const pixels = backgroundTile(4, 4);
    pixels[47] = 0;
    expect(uniformColor(pixels)).toBeUndefined();
  });
});
