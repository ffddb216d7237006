import { describe, expect, it } from "vitest";
import { FanoutTick, fanoutIntervalMs } from "./fanout-tick.js";
import { ManualTickClock } from "../test-support/manual-tick-clock.js";

function setup(intervalMs: number) {
  const clock = new ManualTickClock();
  const flushes: number[] = [];
  let interval = intervalMs;
  const tick = new FanoutTick(() => flushes.push(clock.now()), () => interval, clock);
  return { clock, flushes, tick, setInterval: (ms: number) => (interval = ms) };
}

describe("fanoutIntervalMs", () => {
  it("is members x the per-member budget, capped by fanoutTickMaxMs", () => {
    const options = { fanoutMicrosPerMember: 25, fanoutTickMaxMs: 20 };
    expect(fanoutIntervalMs(25, options)).toBeCloseTo(0.625);
    expect(fanoutIntervalMs(400, options)).toBe(10);
    expect(fanoutIntervalMs(1_000, options)).toBe(20);
    expect(fanoutIntervalMs(0, options)).toBe(0);
    expect(fanoutIntervalMs(1_000, { fanoutMicrosPerMember: 25, fanoutTickMaxMs: 0 })).toBe(0);
  });
});

describe("FanoutTick", () => {
  it("flushes at the end of the turn when idle, once for everything scheduled in that turn", () => {
    const { clock, flushes, tick } = setup(10);
    tick.schedule();
    tick.schedule();
    tick.schedule();
    expect(tick.scheduled).toBe(true);
    expect(flushes).toEqual([]);
    clock.runSoon();
    expect(flushes).toEqual([0]);
    expect(tick.scheduled).toBe(false);
    expect(clock.waiting).toBe(0);
  });

  it("waits until lastFlush + interval when the last flush was more recent, and not a moment earlier", () => {
    const { clock, flushes, tick } = setup(10);
    tick.schedule();
    clock.runSoon();
    clock.advance(3);
    tick.schedule();
    clock.runSoon();
    expect(flushes).toEqual([0]);
    clock.advance(6.9);
    expect(flushes).toEqual([0]);
    tick.schedule(); // joins the scheduled flush
    clock.advance(0.1);
    expect(flushes).toEqual([0, 10]);
    expect(clock.waiting).toBe(0);
  });

  it("flushes at the end of the turn again once the interval has passed since the last flush", () => {
    const { clock, flushes, tick } = setup(10);
    tick.schedule();
    clock.runSoon();
    clock.advance(10);
    tick.schedule();
    clock.runSoon();
    expect(flushes).toEqual([0, 10]);
  });

  it("reads the interval when scheduling, so it follows the room's size", () => {
    const { clock, flushes, tick, setInterval } = setup(10);
    tick.schedule();
    clock.runSoon();
    setInterval(2);
    clock.advance(1);
    tick.schedule();
    clock.advance(1);
    expect(flushes).toEqual([0, 2]);
  });

  it("with a zero interval flushes once per turn, however often it is scheduled", () => {
    const { clock, flushes, tick } = setup(0);
    for (let turn = 0; turn < 3; turn++) {
      tick.schedule();
      tick.schedule();
      clock.runSoon();
    }
    expect(flushes).toEqual([0, 0, 0]);
  });

  it("cancel drops the scheduled flush; flushedNow also restarts the interval from now", () => {
    const { clock, flushes, tick } = setup(10);
    tick.schedule();
    tick.cancel();
    clock.runSoon();
    expect(flushes).toEqual([]);
    expect(tick.scheduled).toBe(false);
    tick.schedule();
    clock.runSoon();
    clock.advance(2);
    tick.schedule(); // due at 10
    clock.advance(2);
    tick.flushedNow();
    expect(tick.scheduled).toBe(false);
    tick.schedule(); // due at 4 + 10
    clock.advance(9.9);
    expect(flushes).toEqual([0]);
    clock.advance(0.1);
    expect(flushes).toEqual([0, 14]);
  });
});
