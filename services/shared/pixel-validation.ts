import type { Pixel } from "../../gen/pixel/v1/canvas_pb.js";
import { MAX_COLOR, MAX_NAME_LENGTH } from "./config.js";

/** The shape validation needs; both generated Pixel messages and plain objects fit. */
export type PixelLike = Pick<Pixel, "x" | "y" | "color">;

/**
 * Checks a batch against a canvas and a size limit. Returns a message naming the
 * first bad pixel (by index and coordinates), or undefined when every pixel is valid.
 */
export function validatePixels(pixels: readonly PixelLike[], width: number, height: number, maxCount: number): string | undefined {
  if (pixels.length === 0) return "the batch is empty: send at least one pixel";
  if (pixels.length > maxCount) return `the batch has ${pixels.length} pixels; at most ${maxCount} are allowed per call`;
  for (let i = 0; i < pixels.length; i++) {
    const p = pixels[i]!;
    if (p.x >= width || p.y >= height) {
      return `pixel ${i} (x=${p.x}, y=${p.y}) is outside the ${width}x${height} canvas`;
    }
    if (p.color > MAX_COLOR) {
      return `pixel ${i} (x=${p.x}, y=${p.y}) has color 0x${p.color.toString(16)}, above 0xffffff`;
    }
  }
  return undefined;
}

/** Checks a display name; returns a message when it is too long or has control characters. */
export function validateName(name: string): string | undefined {
  if ([...name].length > MAX_NAME_LENGTH) return `the name has ${[...name].length} characters; at most ${MAX_NAME_LENGTH} are allowed`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return "the name contains control characters";
  return undefined;
}
