import type { EventLoopUtilization } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { EventLoopLoad } from "./load-gauge.js";

/** A fake event loop: `busy` is the utilization of the window since the last reading. */
function fakeLoop() {
  const state = { time: 0, busy: 0 };
  const reading = (): EventLoopUtilization => ({ idle: 0, active: 0, utilization: state.busy });
  const utilization = (since?: EventLoopUtilization) => (since ? { ...reading(), utilization: state.busy } : reading());
  return { state, utilization, now: () => state.time };
}

describe("EventLoopLoad", () => {
  it("is under load once three windows in a row reach the threshold, and leaves below three quarters of it", () => {
    const loop = fakeLoop();
    const gauge = new EventLoopLoad(0.4, 100, loop.utilization, loop.now);
    const at = (time: number, busy: number) => {
      loop.state.time = time;
      loop.state.busy = busy;
      return gauge.underLoad();
    };
    expect(at(100, 0.3)).toBe(false);
    expect(at(200, 0.45)).toBe(false);
    // Re-read at most once per window.
    expect(at(250, 0.9)).toBe(false);
    expect(at(300, 0.45)).toBe(false);
    // One quiet window starts the count again: a join or a GC pause is not load.
    expect(at(400, 0.2)).toBe(false);
    expect([at(500, 0.5), at(600, 0.5), at(700, 0.5)]).toEqual([false, false, true]);
    // Stays under load above 0.3 (three quarters of 0.4), leaves below it.
    expect(at(800, 0.31)).toBe(true);
    expect(at(900, 0.29)).toBe(false);
    // And must again be busy three windows in a row to come back.
    expect([at(1000, 0.5), at(1100, 0.5), at(1200, 0.5)]).toEqual([false, false, true]);
  });

  it("stays off at a steady utilization below the threshold, whatever single windows spike to", () => {
    const loop = fakeLoop();
    const gauge = new EventLoopLoad(0.3, 100, loop.utilization, loop.now);
    const verdicts = Array.from({ length: 50 }, (_, i) => {
      loop.state.time = (i + 1) * 100;
      loop.state.busy = i % 5 === 0 ? 0.6 : 0.22;
      return gauge.underLoad();
    });
    expect(verdicts.every((v) => !v)).toBe(true);
  });

  it("reports each window's utilization and verdict", () => {
    const loop = fakeLoop();
    const seen: [number, boolean][] = [];
    const gauge = new EventLoopLoad(0.4, 100, loop.utilization, loop.now, (busy, loaded) => seen.push([busy, loaded]));
    loop.state.busy = 0.5;
    for (const time of [100, 150, 200, 300]) {
      loop.state.time = time;
      gauge.underLoad();
    }
    expect(seen).toEqual([[0.5, false], [0.5, false], [0.5, true]]);
  });

  it("is always under load at threshold 0 and never above 1", () => {
    const loop = fakeLoop();
    expect(new EventLoopLoad(0, 100, loop.utilization, loop.now).underLoad()).toBe(true);
    loop.state.busy = 1;
    loop.state.time = 1_000;
    expect(new EventLoopLoad(1.01, 100, loop.utilization, loop.now).underLoad()).toBe(false);
  });

  it("reads the real event loop", () => {
    const gauge = new EventLoopLoad(0.5, 0);
    expect(typeof gauge.underLoad()).toBe("boolean");
  });
});
