import { describe, expect, it } from "vitest";
import { frameStats, REFRESH_MS } from "./frame-stats.js";

describe("frame stats of a timelapse run", () => {
  it("reads the median and 1% low fps and counts the refreshes without a frame", () => {
    // 98 frames on time, then one frame three refreshes late (two dropped) and one two late (one dropped).
    const t: number[] = [0];
    for (let i = 0; i < 98; i++) t.push(t.at(-1)! + REFRESH_MS);
    t.push(t.at(-1)! + 3 * REFRESH_MS, t.at(-1)! + 3 * REFRESH_MS + 2 * REFRESH_MS);
    const s = frameStats(t);
    expect(s.frames).toBe(100);
    expect(s.medianFps).toBeCloseTo(60, 6);
    expect(s.p1LowFps).toBeCloseTo(30, 6);
    expect(s.dropped).toBe(3);
    expect(s.worstMs).toBeCloseTo(3 * REFRESH_MS, 6);
  });
});
