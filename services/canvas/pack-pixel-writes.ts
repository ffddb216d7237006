import type { PixelLike } from "../../protocol/pixel-validation.js";

/**
 * Two written pixels at most this many pixels apart share one span. Within a span the Lua script
 * reads the gap bytes back and rewrites them unchanged, which costs far less than another
 * redis.call, but is pure overhead for pixels far apart.
 */
export const SPAN_MAX_GAP_PIXELS = 32;

/** Longest span (its length and pixel count are 2-byte fields). */
const SPAN_MAX_PIXELS = 0xffff;

/** Size of a span header: byte offset (3), span length in pixels (2), written pixel count (2). */
const SPAN_HEADER_BYTES = 7;

/**
 * Packs a batch for the Lua write script as spans of nearby pixels, in one binary argument.
 * Each span is a header (byte offset into the packed RGB string, 3 bytes big-endian since
 * 2048 x 2048 x 3 < 2^24; its length in pixels, 2 bytes; how many of them are written, 2 bytes) and:
 * - when every pixel of the span is written (a run, e.g. a stroke or a lone pixel): R, G, B per pixel,
 *   which the script stores with one SETRANGE;
 * - otherwise, per written pixel, its index within the span (2 bytes) and R, G, B: the script reads
 *   the span with one GETRANGE, patches it and writes it back with one SETRANGE.
 * A pixel placed twice keeps its last colour, as applying the batch in order would. Dense batches
 * thus cost two Redis calls per span instead of one per pixel.
 */
export function packPixelWrites(pixels: readonly PixelLike[], width: number, height: number): Buffer {
  const colors = new Map<number, number>();
  for (const p of pixels) {
    if (p.x >= width || p.y >= height) throw new RangeError(`pixel (${p.x}, ${p.y}) is outside the ${width}x${height} canvas`);
    colors.set(p.y * width + p.x, p.color);
  }
  const indexes = [...colors.keys()].sort((a, b) => a - b);
  // Worst case every pixel is its own span: a header and 3 colour bytes.
  const out = Buffer.allocUnsafe(indexes.length * (SPAN_HEADER_BYTES + 3));
  let o = 0;
  let start = 0;
  while (start < indexes.length) {
    const first = indexes[start]!;
    let end = start + 1;
    while (end < indexes.length && indexes[end]! - indexes[end - 1]! <= SPAN_MAX_GAP_PIXELS + 1 && indexes[end]! - first < SPAN_MAX_PIXELS) end++;
    const spanPixels = indexes[end - 1]! - first + 1;
    const count = end - start;
    const offset = first * 3;
    out[o++] = offset >>> 16;
    out[o++] = (offset >>> 8) & 0xff;
    out[o++] = offset & 0xff;
    o = out.writeUInt16BE(spanPixels, o);
    o = out.writeUInt16BE(count, o);
    const dense = count === spanPixels;
    for (let i = start; i < end; i++) {
      const index = indexes[i]!;
      if (!dense) o = out.writeUInt16BE(index - first, o);
      const color = colors.get(index)!;
      out[o++] = (color >>> 16) & 0xff;
      out[o++] = (color >>> 8) & 0xff;
      out[o++] = color & 0xff;
    }
    start = end;
  }
  return out.subarray(0, o);
}
