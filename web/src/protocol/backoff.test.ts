import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.js";
import { BACKOFF_BASE_MS, MAX_BACKOFF_MS } from "./timing.js";

describe("backoffDelayMs", () => {
  it("starts at 100 ms, doubles, and caps at 2 s (the ceilings, with random just below 1)", () => {
    const top = () => 0.999999;
    expect(BACKOFF_BASE_MS).toBe(100);
    expect(MAX_BACKOFF_MS).toBe(2_000);
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((a) => backoffDelayMs(a, top))).toEqual([99, 199, 399, 799, 1599, 1999, 1999, 1999]);
  });

  it("draws with full jitter: the lowest random gives 0 and the middle gives half the ceiling", () => {
    expect(backoffDelayMs(3, () => 0)).toBe(0);
    expect(backoffDelayMs(3, () => 0.5)).toBe(400);
  });

  it("stays within [0, ceiling) over many real random draws and is actually spread", () => {
    const draws = Array.from({ length: 2000 }, () => backoffDelayMs(2));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(400);
    expect(new Set(draws).size).toBeGreaterThan(100);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(150);
    expect(mean).toBeLessThan(250);
  });
});
