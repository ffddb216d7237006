import { describe, expect, it } from "vitest";
import { overviewLevel } from "./overview-layer.js";

describe("overviewLevel", () => {
  it("draws full resolution while a canvas pixel is at least half a screen pixel", () => {
    expect(overviewLevel(64, 4)).toBe(0);
    expect(overviewLevel(1, 4)).toBe(0);
    expect(overviewLevel(0.5, 4)).toBe(0);
  });

  it("picks the level whose pixels are about a screen pixel when zoomed out, within the canvas's levels", () => {
    expect(overviewLevel(0.37, 4)).toBe(1);
    expect(overviewLevel(0.25, 4)).toBe(2);
    expect(overviewLevel(0.09, 6)).toBe(3);
    expect(overviewLevel(0.01, 3)).toBe(2);
    expect(overviewLevel(0.3, 1)).toBe(0);
  });
});
