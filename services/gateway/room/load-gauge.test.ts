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
  it("is under load once a window's utilization reaches the threshold, and leaves below half of it", () => {
    const loop = fakeLoop();
    const gauge = new EventLoopLoad(0.4, 100, loop.utilization, loop.now);
    loop.state.busy = 0.3;
    loop.state.time = 100;
    expect(gauge.underLoad()).toBe(false);
    loop.state.busy = 0.45;
    loop.state.time = 150;
    // Re-read at most once per window.
    expect(gauge.underLoad()).toBe(false);
    loop.state.time = 200;
    expect(gauge.underLoad()).toBe(true);
    loop.state.busy = 0.25;
    loop.state.time = 300;
    expect(gauge.underLoad()).toBe(true);
    loop.state.busy = 0.19;
    loop.state.time = 400;
    expect(gauge.underLoad()).toBe(false);
  });

  it("reports each window's utilization and verdict", () => {
    const loop = fakeLoop();
    const seen: [number, boolean][] = [];
    const gauge = new EventLoopLoad(0.4, 100, loop.utilization, loop.now, (busy, loaded) => seen.push([busy, loaded]));
    loop.state.busy = 0.5;
    loop.state.time = 100;
    gauge.underLoad();
    gauge.underLoad();
    expect(seen).toEqual([[0.5, true]]);
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
