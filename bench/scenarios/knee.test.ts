import { describe, expect, it } from "vitest";
import type { PhaseResult } from "../phase.js";
import { kneeFailure, nextKneeRate, type KneeSearch } from "./knee.js";

function phase(overrides: Partial<PhaseResult>): PhaseResult {
  const latency = { count: 100, meanMs: 5, p50Ms: 4, p95Ms: 8, p99Ms: 9, p999Ms: 10, maxMs: 12 };
  return { lost: 0, rejected: 0, maxSendLagMs: 0, latency, errorsByCode: {}, ...overrides } as PhaseResult;
}

describe("kneeFailure", () => {
  it("holds when nothing is lost or refused and p99 is within the limit", () => {
    expect(kneeFailure(phase({}), 100, 1000)).toBeUndefined();
  });

  it("names the first reason a step fails", () => {
    expect(kneeFailure(phase({ lost: 3 }), 100, 1000)).toBe("3 pixel deliveries lost");
    expect(kneeFailure(phase({ rejected: 2, errorsByCode: { ERROR_CODE_OVERLOADED: 2 } }), 100, 1000)).toMatch(/2 pixels refused/);
    expect(kneeFailure(phase({ latency: { count: 1, meanMs: 1, p50Ms: 1, p95Ms: 1, p99Ms: 150, p999Ms: 1, maxMs: 1 } }), 100, 1000)).toBe("p99 150 ms > 100 ms");
    expect(kneeFailure(phase({ maxSendLagMs: 2000 }), 100, 1000)).toMatch(/load generator fell 2000 ms behind/);
  });
});

describe("nextKneeRate", () => {
  const bisect: KneeSearch = { search: "bisect", factor: 2, precision: 0.05, maxRate: 100_000 };

  /** Runs the search against a system that holds every rate up to `capacity`; returns the rates tried. */
  function tried(capacity: number, o: KneeSearch): number[] {
    const rates: number[] = [];
    let held = 0;
    let failed = Infinity;
    for (let r = nextKneeRate(held, failed, 100, o); r !== undefined; r = nextKneeRate(held, failed, 100, o)) {
      rates.push(r);
      if (r <= capacity) held = r;
      else failed = r;
    }
    return rates;
  }

  it("bisect: doubles until a failure, then halves the gap until it is within 5 %", () => {
    expect(tried(3_000, bisect)).toEqual([100, 200, 400, 800, 1600, 3200, 2400, 2800, 3000, 3100]);
  });

  it("ladder: multiplies by the factor and stops at the first failure, so the knee is a power of the factor", () => {
    expect(tried(3_000, { ...bisect, search: "ladder", factor: 1.5 })).toEqual([100, 150, 225, 338, 507, 761, 1142, 1713, 2570, 3855]);
  });

  it("stops when the first rate fails, and at --max-rate when nothing fails", () => {
    expect(tried(50, bisect)).toEqual([100]);
    expect(tried(Infinity, { ...bisect, maxRate: 1_000 })).toEqual([100, 200, 400, 800]);
  });
});
