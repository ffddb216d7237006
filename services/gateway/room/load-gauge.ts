import { performance, type EventLoopUtilization } from "node:perf_hooks";

/** Whether this process counts as under load, which turns the fan-out's frame budget on. */
export interface LoadGauge {
  underLoad(): boolean;
}

/** A gauge that always says "under load": the frame budget applies whenever batches keep coming. */
export const ALWAYS_LOADED: LoadGauge = { underLoad: () => true };

/** The event loop's utilization is re-read at most this often (ms); each reading covers the time since the last. */
export const LOAD_SAMPLE_MS = 100;

/** Windows in a row at or above the threshold before the gauge says "under load": one join or GC pause is not load. */
export const ENTER_WINDOWS = 3;

/** Once under load, the gauge says so until a window's utilization falls below this fraction of the threshold (hysteresis). */
export const LEAVE_FRACTION = 0.75;

/**
 * Under load once the event loop has been busy at least `threshold` (0..1) of ENTER_WINDOWS
 * windows in a row: the share of each LOAD_SAMPLE_MS window it spent running callbacks rather
 * than waiting for I/O (`performance.eventLoopUtilization`). A gateway with CPU to spare sends
 * every batch at once, which costs frames but no latency; one whose loop is busy coalesces, since
 * every frame then delays the others. It stays under load until a window falls below
 * LEAVE_FRACTION of the threshold, so the budget's own saving does not switch it off at once.
 * (Entering on one window at 30 % and leaving only below half of it, as before, kept the budget
 * on at light load: one busy window, a join or a GC pause, turned it on, and a gateway about 20 %
 * busy (seed-stress) seldom fell below 15 %: seed-stress p50 was 3-4x legacy's at 5e3e8c2, and
 * 2.2x less with the budget off.)
 * Threshold 0: always under load; above 1: never.
 */
export class EventLoopLoad implements LoadGauge {
  private last: EventLoopUtilization;
  private lastAt: number;
  private loaded = false;
  /** Windows in a row at or above the threshold while not under load. */
  private busyWindows = 0;

  constructor(
    private readonly threshold: number,
    private readonly sampleMs = LOAD_SAMPLE_MS,
    private readonly utilization: (since?: EventLoopUtilization) => EventLoopUtilization = (since) => performance.eventLoopUtilization(since),
    private readonly now: () => number = () => performance.now(),
    /** Called with each window's utilization and the verdict (metrics). */
    private readonly sampled: (utilization: number, underLoad: boolean) => void = () => undefined,
  ) {
    this.last = utilization();
    this.lastAt = now();
  }

  underLoad(): boolean {
    if (this.threshold <= 0) return true;
    if (this.threshold > 1) return false;
    const at = this.now();
    if (at - this.lastAt >= this.sampleMs) {
      const current = this.utilization();
      const busy = this.utilization(this.last).utilization;
      this.last = current;
      this.lastAt = at;
      if (this.loaded) this.loaded = busy >= this.threshold * LEAVE_FRACTION;
      else {
        this.busyWindows = busy >= this.threshold ? this.busyWindows + 1 : 0;
        this.loaded = this.busyWindows >= ENTER_WINDOWS;
      }
      if (this.loaded) this.busyWindows = 0;
      this.sampled(busy, this.loaded);
    }
    return this.loaded;
  }
}
