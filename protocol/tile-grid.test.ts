import { describe, expect, it } from "vitest";
import { levelCount, levelSize, parseTileName, TILE_SIZE, tileGridSize, tileName, tileOfPixel, tileRect, tilesOfRect } from "./tile-grid.js";

describe("tile addressing", () => {
  it("puts a pixel in the tile of its column and row of TILE_SIZE pixels", () => {
    expect(tileOfPixel(0, 0)).toEqual({ tx: 0, ty: 0 });
    expect(tileOfPixel(TILE_SIZE - 1, TILE_SIZE)).toEqual({ tx: 0, ty: 1 });
    expect(tileOfPixel(8191, 8191)).toEqual({ tx: 8191 >> 8, ty: 8191 >> 8 });
  });

  it("halves the canvas per level, rounding up, until one tile holds it", () => {
    expect(levelSize(8192, 8192, 5)).toEqual({ width: 256, height: 256 });
    expect(levelSize(1001, 3, 1)).toEqual({ width: 501, height: 2 });
    expect(levelCount(8192, 8192)).toBe(6);
    expect(levelCount(TILE_SIZE, 50)).toBe(1);
    expect(levelCount(TILE_SIZE + 1, 1)).toBe(2);
    expect(tileGridSize(8192, 8192)).toEqual({ columns: 32, rows: 32 });
    expect(tileGridSize(8192, 8192, 5)).toEqual({ columns: 1, rows: 1 });
    expect(tileGridSize(1000, 300)).toEqual({ columns: 4, rows: 2 });
  });

  it("clips the last column and row of tiles to the canvas, and has no tile outside it", () => {
    expect(tileRect(1000, 300, 0, { tx: 3, ty: 1 })).toEqual({ x: 768, y: 256, width: 232, height: 44 });
    expect(tileRect(1000, 300, 1, { tx: 1, ty: 0 })).toEqual({ x: 256, y: 0, width: 244, height: 150 });
    expect(tileRect(1000, 300, 0, { tx: 4, ty: 0 })).toBeUndefined();
    expect(tileRect(1000, 300, 0, { tx: -1, ty: 0 })).toBeUndefined();
    expect(tileRect(1000, 300, 0, { tx: 0.5, ty: 0 })).toBeUndefined();
    expect(tileRect(1000, 300, levelCount(1000, 300), { tx: 0, ty: 0 })).toBeUndefined();
  });

  it("lists the tiles a rectangle touches, row by row, clipped to the canvas", () => {
    expect(tilesOfRect(1000, 1000, 0, { x: 250, y: 10, width: 10, height: 250 })).toEqual([
      { tx: 0, ty: 0 }, { tx: 1, ty: 0 }, { tx: 0, ty: 1 }, { tx: 1, ty: 1 },
    ]);
    expect(tilesOfRect(1000, 1000, 0, { x: -50, y: 990, width: 100, height: 100 })).toEqual([{ tx: 0, ty: 3 }]);
    expect(tilesOfRect(1000, 1000, 0, { x: 1000, y: 0, width: 5, height: 5 })).toEqual([]);
    expect(tilesOfRect(1000, 1000, 1, { x: 0, y: 0, width: 500, height: 500 })).toHaveLength(4);
  });

  it("names tiles tx:ty and parses only well-formed names", () => {
    expect(tileName({ tx: 3, ty: 12 })).toBe("3:12");
    expect(parseTileName("3:12")).toEqual({ tx: 3, ty: 12 });
    expect(parseTileName("3:-1")).toBeUndefined();
  });
});
