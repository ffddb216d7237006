import { describe, expect, it } from "vitest";
import { linePixels } from "./line-pixels.js";

describe("linePixels", () => {
  it("returns one point for a zero-length line", () => {
    expect(linePixels({ x: 3, y: 3 }, { x: 3, y: 3 })).toEqual([{ x: 3, y: 3 }]);
  });

  it("leaves no holes: consecutive points touch (8-connected) in every direction", () => {
    for (const [x1, y1] of [[10, 0], [0, 10], [-7, 3], [5, -9], [9, 9]] as const) {
      const points = linePixels({ x: 0, y: 0 }, { x: x1, y: y1 });
      expect(points[0]).toEqual({ x: 0, y: 0 });
      expect(points.at(-1)).toEqual({ x: x1, y: y1 });
      expect(points.length).toBe(Math.max(Math.abs(x1), Math.abs(y1)) + 1);
      for (let i = 1; i < points.length; i++) {
        expect(Math.abs(points[i]!.x - points[i - 1]!.x)).toBeLessThanOrEqual(1);
        expect(Math.abs(points[i]!.y - points[i - 1]!.y)).toBeLessThanOrEqual(1);
      }
    }
  });
});
