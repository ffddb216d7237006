import { describe, expect, it } from "vitest";
import type { PhaseResult } from "../phase.js";
import { kneeFailure } from "./knee.js";

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
