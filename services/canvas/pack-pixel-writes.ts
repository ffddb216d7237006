import type { PixelLike } from "../../protocol/pixel-validation.js";
import { TILE_SIZE, tileGridSize } from "../../protocol/tile-grid.js";

/**
 * Two written pixels at most this many pixels apart (in their tile's rows) share one span. Within
 * a span the Lua script reads the gap bytes back and rewrites them unchanged, which costs far less
 * than another redis.call, but is pure overhead for pixels far apart.
 */
export const SPAN_MAX_GAP_PIXELS = 32;

/** Longest span (its length and pixel count are 2-byte fields). */
const SPAN_MAX_PIXELS = 0xffff;

/** Size of a tile group header: column (2), row (2), the tile's byte length (3), the group's byte length (4). */
export const TILE_HEADER_BYTES = 11;

/** Size of a span header: byte offset into the tile (3), span length in pixels (2), written pixel count (2). */
const SPAN_HEADER_BYTES = 7;

const TILE_PIXELS = TILE_SIZE * TILE_SIZE;

/**
 * Packs a batch for the Lua write script, in one binary argument: one group per level-0 tile the
 * batch paints (in row-major tile order), each a header (tile column and row, 2 bytes each; the
 * tile's length in bytes, 3 bytes, so the script can create it white on first paint; the length of
 * the group's spans in bytes, 4 bytes) followed by spans of nearby pixels of that tile. A span is a
 * header (byte offset into the tile's packed RGB string, 3 bytes; its length in pixels, 2 bytes;
 * how many of them are written, 2 bytes, all big-endian) and:
 * - when every pixel of the span is written (a run, e.g. a stroke or a lone pixel): R, G, B per pixel,
 *   which the script stores with one SETRANGE;
 * - otherwise, per written pixel, its index within the span (2 bytes) and R, G, B: the script reads
 *   the span with one GETRANGE, patches it and writes it back with one SETRANGE.
 * A pixel placed twice keeps its last colour, as applying the batch in order would. Dense batches
 * thus cost two Redis calls per span instead of one per pixel.
 */
export function packPixelWrites(pixels: readonly PixelLike[], width: number, height: number): Buffer {
  const { columns } = tileGridSize(width, height);
  const colors = new Map<number, number>();
  for (const p of pixels) colors.set(packedKey(p, width, height, columns), p.color);
  const keys = [...colors.keys()].sort((a, b) => a - b);
  // Worst case every pixel is its own span in its own tile.
  const out = Buffer.allocUnsafe(keys.length * (TILE_HEADER_BYTES + SPAN_HEADER_BYTES + 3));
  let o = 0;
  let start = 0;
  while (start < keys.length) {
    const tileIndex = Math.floor(keys[start]! / TILE_PIXELS);
    let end = start + 1;
    while (end < keys.length && Math.floor(keys[end]! / TILE_PIXELS) === tileIndex) end++;
    const tx = tileIndex % columns;
    const ty = Math.floor(tileIndex / columns);
    const tileBytes = Math.min(TILE_SIZE, width - tx * TILE_SIZE) * Math.min(TILE_SIZE, height - ty * TILE_SIZE) * 3;
    o = out.writeUInt16BE(tx, o);
    o = out.writeUInt16BE(ty, o);
    o = out.writeUIntBE(tileBytes, o, 3);
    const lengthAt = o;
    o += 4;
    o = packSpans(keys.slice(start, end).map((k) => k - tileIndex * TILE_PIXELS), (i) => colors.get(tileIndex * TILE_PIXELS + i)!, out, o);
    out.writeUInt32BE(o - lengthAt - 4, lengthAt);
    start = end;
  }
  return out.subarray(0, o);
}

/**
 * The order key of a pixel in packed writes: tile index * TILE_PIXELS + index within the tile, so
 * sorting groups by tile, then row-major. Throws RangeError for a pixel off the canvas.
 */
function packedKey(p: PixelLike, width: number, height: number, columns: number): number {
  if (p.x >= width || p.y >= height) throw new RangeError(`pixel (${p.x}, ${p.y}) is outside the ${width}x${height} canvas`);
  const tx = Math.floor(p.x / TILE_SIZE);
  const ty = Math.floor(p.y / TILE_SIZE);
  const tileWidth = Math.min(TILE_SIZE, width - tx * TILE_SIZE);
  return (ty * columns + tx) * TILE_PIXELS + (p.y - ty * TILE_SIZE) * tileWidth + (p.x - tx * TILE_SIZE);
}

/**
 * How the write script puts the previous colours it reads (in packed order, one per distinct
 * pixel) into the order of `pixels`, for the history entry: 4 bytes per pixel, either 0 and the
 * 3-byte index of the pixel among the distinct pixels sorted as packPixelWrites sorts them, or (for
 * a pixel placed again in the same run) 1 and the colour its previous placement in the run wrote.
 */
export function previousColorOrder(pixels: readonly PixelLike[], width: number, height: number): Buffer {
  const { columns } = tileGridSize(width, height);
  const keys = pixels.map((p) => packedKey(p, width, height, columns));
  const rank = new Map<number, number>();
  for (const k of [...new Set(keys)].sort((a, b) => a - b)) rank.set(k, rank.size);
  const out = Buffer.alloc(pixels.length * 4);
  const last = new Map<number, number>();
  pixels.forEach((p, i) => {
    const before = last.get(keys[i]!);
    if (before === undefined) out.writeUInt32BE(rank.get(keys[i]!)!, i * 4);
    else out.writeUInt32BE(0x1000000 | before, i * 4);
    last.set(keys[i]!, p.color);
  });
  return out;
}

/** Writes the spans of one tile's sorted pixel indexes at `o`; returns the offset after them. */
function packSpans(indexes: readonly number[], colorOf: (index: number) => number, out: Buffer, o: number): number {
  let start = 0;
  while (start < indexes.length) {
    const first = indexes[start]!;
    let end = start + 1;
    while (end < indexes.length && indexes[end]! - indexes[end - 1]! <= SPAN_MAX_GAP_PIXELS + 1 && indexes[end]! - first < SPAN_MAX_PIXELS) end++;
    const spanPixels = indexes[end - 1]! - first + 1;
    const count = end - start;
    o = out.writeUIntBE(first * 3, o, 3);
    o = out.writeUInt16BE(spanPixels, o);
    o = out.writeUInt16BE(count, o);
    const dense = count === spanPixels;
    for (let i = start; i < end; i++) {
      const index = indexes[i]!;
      if (!dense) o = out.writeUInt16BE(index - first, o);
      o = out.writeUIntBE(colorOf(index), o, 3);
    }
    start = end;
  }
  return o;
}
