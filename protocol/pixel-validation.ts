import { MAX_COLOR, MAX_NAME_LENGTH } from "./limits.js";

/** A plain pixel: x, y and colour 0xRRGGBB. Generated Pixel messages fit too. */
export interface PixelLike {
  x: number;
  y: number;
  color: number;
}

function isIndexBelow(value: number, size: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < size;
}

/**
 * Checks one pixel against a width×height canvas; returns a message naming it by `index` and
 * coordinates when it is off the canvas or its colour is not 0xRRGGBB, else undefined.
 */
export function pixelProblem(p: PixelLike, index: number, width: number, height: number): string | undefined {
  if (!isIndexBelow(p.x, width) || !isIndexBelow(p.y, height)) {
    return `pixel ${index} (x=${p.x}, y=${p.y}) is outside the ${width}x${height} canvas`;
  }
  if (p.color > MAX_COLOR) return `pixel ${index} (x=${p.x}, y=${p.y}) has color 0x${p.color.toString(16)}, above 0xffffff`;
  if (!isIndexBelow(p.color, MAX_COLOR + 1)) return `pixel ${index} (x=${p.x}, y=${p.y}) has color ${p.color}, not a 0xRRGGBB value`;
  return undefined;
}

/**
 * Checks a batch against a canvas and a size limit. Returns a message naming the
 * first bad pixel (by index and coordinates), or undefined when every pixel is valid.
 */
export function validatePixels(pixels: readonly PixelLike[], width: number, height: number, maxCount: number): string | undefined {
  if (pixels.length === 0) return "the batch is empty: send at least one pixel";
  if (pixels.length > maxCount) return `the batch has ${pixels.length} pixels; at most ${maxCount} are allowed per call`;
  for (let i = 0; i < pixels.length; i++) {
    const problem = pixelProblem(pixels[i]!, i, width, height);
    if (problem) return problem;
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
