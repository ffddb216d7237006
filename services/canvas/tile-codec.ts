import { decode, encode } from "fast-png";

/** The colour of every pixel never painted (0xRRGGBB), unless its canvas was created with another. */
export const DEFAULT_BACKGROUND = 0xffffff;

/**
 * zlib level of tile PNGs. Measured on 256 x 256 tiles of drawn pixel art: level 6 is about half
 * the bytes of level 1 for a millisecond or two more per encode; a tile is encoded once per
 * version and cached by browsers and CDNs, so bytes matter more.
 */
const PNG_ZLIB_LEVEL = 6;

/** A tile's pixels: row-major RGB, or undefined for a tile never painted (all background). */
export type TilePixels = Uint8Array | undefined;

/** A whole tile (or canvas) filled with a background colour (0xRRGGBB). */
export function backgroundTile(width: number, height: number, background: number = DEFAULT_BACKGROUND): Uint8Array {
  const r = (background >>> 16) & 0xff;
  const g = (background >>> 8) & 0xff;
  const b = background & 0xff;
  const out = new Uint8Array(width * height * 3);
  if (r === g && g === b) return out.fill(r);
  for (let o = 0; o < out.length; o += 3) {
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
  }
  return out;
}

/** The one colour of a tile whose pixels all have it, or undefined when it has several. */
export function uniformColor(rgb: Uint8Array): [number, number, number] | undefined {
  const r = rgb[0]!;
  const g = rgb[1]!;
  const b = rgb[2]!;
  for (let i = 3; i < rgb.length; i += 3) {
    if (rgb[i] !== r || rgb[i + 1] !== g || rgb[i + 2] !== b) return undefined;
  }
  return [r, g, b];
}

/**
 * Encodes a tile as PNG. A tile of one colour (every never-painted tile among them) becomes a
 * 1-bit indexed PNG with a one-entry palette, about 100 bytes for 256 x 256; any other tile is
 * 8-bit RGB, which browsers and image tools decode natively.
 */
export function encodeTilePng(pixels: TilePixels, width: number, height: number, background: number = DEFAULT_BACKGROUND): Uint8Array {
  const color = pixels === undefined ? [(background >>> 16) & 0xff, (background >>> 8) & 0xff, background & 0xff] : uniformColor(pixels);
  if (color !== undefined) {
    // Rows of 1-bit indexes are padded to whole bytes; every index is 0, the one palette entry.
    const data = new Uint8Array(Math.ceil(width / 8) * height);
    return encode({ width, height, data, channels: 1, depth: 1, palette: [color] }, { zlib: { level: PNG_ZLIB_LEVEL } });
  }
  return encode({ width, height, data: pixels!, channels: 3, depth: 8 }, { zlib: { level: PNG_ZLIB_LEVEL } });
}

/** Decodes a tile PNG (as `encodeTilePng` writes it) back to row-major RGB. */
export function decodeTilePng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const image = decode(png);
  const { width, height } = image;
  const pixels = new Uint8Array(width * height * 3);
  if (image.palette !== undefined) {
    const bits = image.depth;
    const rowBytes = Math.ceil((width * bits) / 8);
    const palette = image.palette;
    let o = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = x * bits;
        const entry = palette[(image.data[y * rowBytes + (bit >> 3)]! >> (8 - bits - (bit & 7))) & ((1 << bits) - 1)]!;
        pixels[o++] = entry[0]!;
        pixels[o++] = entry[1]!;
        pixels[o++] = entry[2]!;
      }
    }
    return { width, height, pixels };
  }
  if (image.channels !== 3 || image.depth !== 8) throw new Error(`unexpected tile PNG: ${image.channels} channels of ${image.depth} bits`);
  pixels.set(image.data);
  return { width, height, pixels };
}
