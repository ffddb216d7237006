import { describe, expect, it } from "vitest";
import { ReaderStats } from "./reader-stats.js";
import { Control, SharedState } from "./shared-state.js";

describe("ReaderStats", () => {
  it("scanner: records others' pixels of any phase, skips its own echo for latency, and counts phase receipts per steady reader", () => {
    const shared = SharedState.create();
    const stats = new ReaderStats(shared, 2, "scanner");
    stats.reset(1);
    const t0 = 1_000;
    const mine = shared.claim(7, 1, t0);
    const theirs = shared.claim(8, 1, t0);
    const oldPhase = shared.claim(8, 0, t0);
    stats.pixel(mine, 7, 0, t0 + 2);
    stats.pixel(theirs, 7, 0, t0 + 3);
    stats.pixel(oldPhase, 7, 0, t0 + 3);
    stats.pixel(theirs, 9, 1, t0 + 5);
    stats.pixel(0xabcdef, 9, 1, t0 + 5);
    stats.endFrame();
    expect(stats.latency.total).toBe(3);
    expect(Math.abs(stats.latency.quantile(0) - 3000) / 3000).toBeLessThan(0.001);
    expect(Math.abs(stats.latency.max - 5000) / 5000).toBeLessThan(0.001);
    expect(Array.from(stats.received)).toEqual([2, 1]);
    expect(stats.unknownPixels).toBe(1);
    expect(Atomics.load(shared.control, Control.Delivered)).toBe(3);
    expect(Atomics.load(shared.control, Control.Sent)).toBe(3);
  });

  it("outsider: times every delivery of the current phase, the writer's own echo included, and no older pixel", () => {
    const shared = SharedState.create();
    const stats = new ReaderStats(shared, 1, "outsider");
    stats.reset(2);
    const t0 = 1_000;
    const mine = shared.claim(7, 2, t0);
    const theirs = shared.claim(8, 2, t0);
    const oldPhase = shared.claim(8, 1, t0);
    stats.pixel(mine, 7, 0, t0 + 2);
    stats.pixel(theirs, 7, 0, t0 + 4);
    stats.pixel(oldPhase, 7, 0, t0 + 9);
    stats.endFrame();
    expect(stats.latency.total).toBe(2);
    expect(Math.abs(stats.latency.quantile(0) - 2000) / 2000).toBeLessThan(0.001);
    expect(Math.abs(stats.latency.max - 4000) / 4000).toBeLessThan(0.001);
    expect(Array.from(stats.received)).toEqual([2]);
  });

  it("counts refused pixels in the shared counter and errors by code", () => {
    const shared = SharedState.create();
    const stats = new ReaderStats(shared, 1, "scanner");
    stats.error("ERROR_CODE_RATE_LIMITED", 1);
    stats.error("undecodable", 0);
    expect(stats.errorsByCode).toEqual({ ERROR_CODE_RATE_LIMITED: 1, undecodable: 1 });
    expect(Atomics.load(shared.control, Control.Rejected)).toBe(1);
  });
});
