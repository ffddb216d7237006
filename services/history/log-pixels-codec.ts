import type { LogPixel } from "./placement-log.js";

/** Bytes per pixel in a batch row's `pixels` column: x (2), y (2), colour (3), previous colour (3), big-endian. */
export const LOG_PIXEL_BYTES = 10;

/** Packs a batch's pixels, in order, for its row in the log (what the timelapse reads). */
export function encodeLogPixels(pixels: readonly LogPixel[]): Buffer {
  const out = Buffer.allocUnsafe(pixels.length * LOG_PIXEL_BYTES);
  let o = 0;
  for (const p of pixels) {
    o = out.writeUInt16BE(p.x, o);
    o = out.writeUInt16BE(p.y, o);
    o = out.writeUIntBE(p.color, o, 3);
    o = out.writeUIntBE(p.previousColor, o, 3);
  }
  return out;
}

/** Unpacks what encodeLogPixels packed. Throws RangeError for a length that is not a whole number of pixels. */
export function decodeLogPixels(bytes: Uint8Array): LogPixel[] {
  if (bytes.length % LOG_PIXEL_BYTES !== 0) throw new RangeError(`a log pixels column of ${bytes.length} bytes is not a whole number of ${LOG_PIXEL_BYTES}-byte pixels`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: LogPixel[] = new Array(bytes.length / LOG_PIXEL_BYTES);
  for (let i = 0, o = 0; o < b.length; i++, o += LOG_PIXEL_BYTES) {
    out[i] = { x: b.readUInt16BE(o), y: b.readUInt16BE(o + 2), color: b.readUIntBE(o + 4, 3), previousColor: b.readUIntBE(o + 7, 3) };
  }
  return out;
}
