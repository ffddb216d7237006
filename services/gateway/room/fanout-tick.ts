import { performance } from "node:perf_hooks";
import { ALWAYS_LOADED, type LoadGauge } from "./load-gauge.js";

/** The clock and timers a FanoutTick uses; tests pass a fake one. */
export interface TickClock {
  /** Milliseconds, sub-millisecond precision, from any fixed origin. */
  now(): number;
  /** Runs `fn` after the I/O callbacks of this event-loop turn (setImmediate); returns its cancel function. */
  soon(fn: () => void): () => void;
  /** Runs `fn` after `ms` milliseconds (setTimeout; Node waits at least 1 ms); returns its cancel function. */
  after(fn: () => void, ms: number): () => void;
}

/** The real clock: performance.now, setImmediate, and unref'd timers (a pending flush must not hold the process). */
export const systemTickClock: TickClock = {
  now: () => performance.now(),
  soon: (fn) => {
    const immediate = setImmediate(fn);
    return () => clearImmediate(immediate);
  },
  after: (fn, ms) => {
    const timer = setTimeout(fn, ms).unref();
    return () => clearTimeout(timer);
  },
};

/** The knobs of the fan-out's pacing (see GatewayTuning). */
export interface FanoutTickOptions {
  /** Budget per member: a room flushes at most once per members × this many microseconds ... */
  fanoutMicrosPerMember: number;
  /** ... and at least once per this many milliseconds while batches arrive; 0 flushes once per I/O turn. */
  fanoutTickMaxMs: number;
  /**
   * The frame budget: while the gateway is under load (`loadGauge`), a room flushes at most once
   * per this many milliseconds (16: one frame per display refresh per socket), whatever its size.
   * The first batch after a quiet period still goes at once. 0 (or absent) turns it off.
   */
  frameBudgetMs?: number;
  /** Says when the frame budget applies; absent: always (tests). */
  loadGauge?: LoadGauge;
}

/**
 * The least time between two flushes of a room with `members` members:
 * min(fanoutTickMaxMs, members × fanoutMicrosPerMember / 1000). A flush costs one frame per
 * member, so this caps a room's frames per second at about 1e6 / fanoutMicrosPerMember while
 * keeping small rooms at sub-millisecond latency and large ones within fanoutTickMaxMs. Under
 * load (`underLoad`) it is at least frameBudgetMs, so no socket gets more than one frame of
 * batches per budget.
 */
export function fanoutIntervalMs(members: number, options: FanoutTickOptions, underLoad = false): number {
  const adaptive = Math.min(options.fanoutTickMaxMs, (members * options.fanoutMicrosPerMember) / 1000);
  const budget = options.frameBudgetMs ?? 0;
  return budget > 0 && underLoad ? Math.max(adaptive, budget) : adaptive;
}

/** The interval function a room's FanoutTick uses: fanoutIntervalMs, asking the gauge only when a budget is set. */
export function roomInterval(members: () => number, options: FanoutTickOptions): () => number {
  const gauge = options.loadGauge ?? ALWAYS_LOADED;
  return () => fanoutIntervalMs(members(), options, (options.frameBudgetMs ?? 0) > 0 && gauge.underLoad());
}

/**
 * Schedules the flushes of one room. schedule() after a batch is queued: when the last flush
 * was at least `interval()` ago the flush runs on setImmediate, so every batch read off the bus in
 * this I/O turn goes out together at no added latency; otherwise it runs at lastFlush + interval.
 * At most one flush is scheduled at a time, so batches arriving meanwhile join it.
 */
export class FanoutTick {
  private cancelScheduled: (() => void) | undefined;
  private lastFlushAt = -Infinity;

  constructor(
    private readonly flush: () => void,
    private readonly interval: () => number,
    private readonly clock: TickClock = systemTickClock,
  ) {}

  /** True while a flush is scheduled and has not run. */
  get scheduled(): boolean {
    return this.cancelScheduled !== undefined;
  }

  /** Makes sure a flush is scheduled; a no-op when one already is. */
  schedule(): void {
    if (this.cancelScheduled) return;
    const wait = this.lastFlushAt + this.interval() - this.clock.now();
    this.cancelScheduled = wait <= 0 ? this.clock.soon(this.fire) : this.clock.after(this.fire, wait);
  }

  /**
   * Records a flush the owner ran itself (e.g. before a resync) and drops the scheduled one,
   * which would find nothing left to send.
   */
  flushedNow(): void {
    this.cancel();
    this.lastFlushAt = this.clock.now();
  }

  /** Drops the scheduled flush, if any. */
  cancel(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
  }

  private readonly fire = (): void => {
    this.cancelScheduled = undefined;
    this.lastFlushAt = this.clock.now();
    this.flush();
  };
}
