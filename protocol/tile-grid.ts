/**
 * Tile addressing: a canvas is a grid of square tiles of TILE_SIZE pixels (the last column and
 * row may be narrower), stored and served one tile at a time. Level 0 is full resolution; level
 * k shows the canvas at 1/2^k of its size, cut into tiles of the same side, so zoomed-out views
 * fetch a few overview tiles rather than every tile.
 */

/**
 * Side of a tile in pixels. 256 measured best (see services/canvas/README.md, "Tiles"): a painted
 * tile costs 192 KiB in Redis and encodes in a few ms to a PNG of a few KiB, while 512 quadruples
 * both the memory a single pixel brings to life and the encode time, and 128 quadruples the keys,
 * requests and per-tile overhead of a full view.
 */
export const TILE_SIZE = 256;

/** A tile's place in its level's grid. */
export interface TileCoord {
  tx: number;
  ty: number;
}

/** A rectangle in the pixels of one level. */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Size of the canvas at `level` (each level halves, rounding up, so no pixel is dropped). */
export function levelSize(width: number, height: number, level: number): { width: number; height: number } {
  const scale = 2 ** level;
  return { width: Math.ceil(width / scale), height: Math.ceil(height / scale) };
}

/** How many levels a canvas has: level 0 up to the first level that fits in one tile. */
export function levelCount(width: number, height: number): number {
  let level = 0;
  while (Math.max(width, height) > TILE_SIZE * 2 ** level) level++;
  return level + 1;
}

/** Tile columns and rows of the canvas at `level`. */
export function tileGridSize(width: number, height: number, level = 0): { columns: number; rows: number } {
  const size = levelSize(width, height, level);
  return { columns: Math.ceil(size.width / TILE_SIZE), rows: Math.ceil(size.height / TILE_SIZE) };
}

/** The level-0 tile holding pixel (x, y). */
export function tileOfPixel(x: number, y: number): TileCoord {
  return { tx: Math.floor(x / TILE_SIZE), ty: Math.floor(y / TILE_SIZE) };
}

/**
 * The pixels a tile covers at its level, clipped to the canvas; undefined when the level or the
 * tile is outside the canvas.
 */
export function tileRect(width: number, height: number, level: number, tile: TileCoord): PixelRect | undefined {
  if (!Number.isInteger(level) || level < 0 || level >= levelCount(width, height)) return undefined;
  const size = levelSize(width, height, level);
  const x = tile.tx * TILE_SIZE;
  const y = tile.ty * TILE_SIZE;
  if (!Number.isInteger(tile.tx) || !Number.isInteger(tile.ty) || tile.tx < 0 || tile.ty < 0 || x >= size.width || y >= size.height) return undefined;
  return { x, y, width: Math.min(TILE_SIZE, size.width - x), height: Math.min(TILE_SIZE, size.height - y) };
}

/** Every tile of `level` that a rectangle of that level's pixels touches, row by row, clipped to the canvas. */
export function tilesOfRect(width: number, height: number, level: number, rect: PixelRect): TileCoord[] {
  const size = levelSize(width, height, level);
  const x0 = Math.max(0, rect.x);
  const y0 = Math.max(0, rect.y);
  const x1 = Math.min(size.width, rect.x + rect.width);
  const y1 = Math.min(size.height, rect.y + rect.height);
  const tiles: TileCoord[] = [];
  if (x1 <= x0 || y1 <= y0) return tiles;
  for (let ty = Math.floor(y0 / TILE_SIZE); ty <= Math.floor((y1 - 1) / TILE_SIZE); ty++) {
    for (let tx = Math.floor(x0 / TILE_SIZE); tx <= Math.floor((x1 - 1) / TILE_SIZE); tx++) tiles.push({ tx, ty });
  }
  return tiles;
}

/** The name of a level-0 tile within its canvas ("tx:ty"): the field of its version and the suffix of its key. */
export function tileName(tile: TileCoord): string {
  return `${tile.tx}:${tile.ty}`;
}

/** Parses a `tileName`; undefined when it is not one. */
export function parseTileName(name: string): TileCoord | undefined {
  const match = /^(\d+):(\d+)$/.exec(name);
  return match ? { tx: Number(match[1]), ty: Number(match[2]) } : undefined;
}
