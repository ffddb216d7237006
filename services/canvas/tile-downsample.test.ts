import { describe, expect, it } from "vitest";
import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { backgroundTile } from "./tile-codec.js";
import { downsampleTile } from "./tile-downsample.js";

describe("downsampleTile", () => {
  it("averages each 2x2 block of a child into one pixel, at the child's quarter of the tile", () => {
    const child = backgroundTile(TILE_SIZE, TILE_SIZE);
    // Block (0,0): black, white, white, white -> 0xbf (191.25 rounded).
    child.set([0, 0, 0], 0);
    // Block (1,0): all four 0x102030.
    for (const [x, y] of [[2, 0], [3, 0], [2, 1], [3, 1]] as const) child.set([0x10, 0x20, 0x30], (y * TILE_SIZE + x) * 3);
    const out = downsampleTile(TILE_SIZE, TILE_SIZE, [{ dx: 1, dy: 1, width: TILE_SIZE, height: TILE_SIZE, pixels: child }])!;
    const at = (x: number, y: number) => [...out.subarray((y * TILE_SIZE + x) * 3, (y * TILE_SIZE + x) * 3 + 3)];
    const half = TILE_SIZE / 2;
    expect(at(half, half)).toEqual([191, 191, 191]);
    expect(at(half + 1, half)).toEqual([0x10, 0x20, 0x30]);
    expect(at(0, 0)).toEqual([255, 255, 255]);
  });

  it("averages only the pixels that exist at an odd-sized canvas edge", () => {
    const child = new Uint8Array(3 * 1 * 3);
    child.set([0, 0, 0, 100, 100, 100, 7, 8, 9]);
    const out = downsampleTile(2, 1, [{ dx: 0, dy: 0, width: 3, height: 1, pixels: child }])!;
    expect([...out]).toEqual([50, 50, 50, 7, 8, 9]);
  });

  it("answers undefined, costing nothing, when no child was ever painted", () => {
    expect(downsampleTile(TILE_SIZE, TILE_SIZE, [{ dx: 0, dy: 0, width: TILE_SIZE, height: TILE_SIZE, pixels: undefined }])).toBeUndefined();
  });
});
