import { describe, expect, it } from "vitest";
import { MAX_NAME_LENGTH } from "./limits.js";
import { pixelProblem, validateName, validatePixels } from "./pixel-validation.js";

describe("pixel validation", () => {
  it("accepts pixels on the canvas with 0xRRGGBB colours", () => {
    expect(validatePixels([{ x: 0, y: 0, color: 0 }, { x: 7, y: 3, color: 0xffffff }], 8, 4, 10)).toBeUndefined();
  });

  it("names the first bad pixel by index and coordinates", () => {
    expect(validatePixels([{ x: 1, y: 1, color: 1 }, { x: 8, y: 0, color: 1 }], 8, 4, 10)).toBe("pixel 1 (x=8, y=0) is outside the 8x4 canvas");
    expect(validatePixels([{ x: 0, y: 4, color: 1 }], 8, 4, 10)).toBe("pixel 0 (x=0, y=4) is outside the 8x4 canvas");
    expect(validatePixels([{ x: 2, y: 3, color: 0x1000000 }], 8, 4, 10)).toBe("pixel 0 (x=2, y=3) has color 0x1000000, above 0xffffff");
  });

  it("refuses values no decoder yields but a JavaScript caller can pass: negative, fractional", () => {
    expect(pixelProblem({ x: -1, y: 0, color: 0 }, 0, 8, 4)).toMatch(/outside the 8x4 canvas/);
    expect(pixelProblem({ x: 0.5, y: 0, color: 0 }, 0, 8, 4)).toMatch(/outside the 8x4 canvas/);
    expect(pixelProblem({ x: 0, y: 0, color: -1 }, 0, 8, 4)).toMatch(/not a 0xRRGGBB value/);
    expect(pixelProblem({ x: 0, y: 0, color: 1.5 }, 0, 8, 4)).toMatch(/not a 0xRRGGBB value/);
  });

  it("refuses an empty batch and one above the limit", () => {
    expect(validatePixels([], 8, 4, 10)).toMatch(/the batch is empty/);
    expect(validatePixels(Array.from({ length: 11 }, () => ({ x: 0, y: 0, color: 0 })), 8, 4, 10)).toMatch(/11 pixels; at most 10/);
  });

  it("checks a name's length in characters and refuses control characters", () => {
    expect(validateName("ann")).toBeUndefined();
    expect(validateName("é".repeat(MAX_NAME_LENGTH))).toBeUndefined();
    expect(validateName("x".repeat(MAX_NAME_LENGTH + 1))).toMatch(/33 characters; at most 32/);
    expect(validateName("a\nb")).toBe("the name contains control characters");
  });
});
