import { performance, type EventLoopUtilization } from "node:perf_hooks";

/** Whether this process counts as under load, which turns the fan-out's frame budget on. */
export interface LoadGauge {
  underLoad(): boolean;
}

/** A gauge that always says "under load": the frame budget applies whenever batches keep coming. */
export const ALWAYS_LOADED: LoadGauge = { underLoad: () => true };

/** The event loop's utilization is re-read at most this often (ms); each reading covers the time since the last. */
export const LOAD_SAMPLE_MS = 100;

/** Once under load, the gauge says so until utilization falls below this fraction of the threshold (hysteresis). */
const LEAVE_FRACTION = 0.5;

/**
 * Under load while the event loop has been busy at least `threshold` (0..1) of the time: the
 * share of each LOAD_SAMPLE_MS window it spent running callbacks rather than waiting for I/O
 * (`performance.eventLoopUtilization`). A gateway with CPU to spare sends every batch at once,
 * which costs frames but no latency; one whose loop is busy coalesces, since every frame then
 * delays the others. It stays under load until utilization drops below half the threshold, so
 * the budget's own saving does not switch it off at once. Threshold 0: always under load; above
 * 1: never.
 */
export class EventLoopLoad implements LoadGauge {
  private last: EventLoopUtilization;
  private lastAt: number;
  private loaded = false;

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
      this.loaded = this.loaded ? busy >= this.threshold * LEAVE_FRACTION : busy >= this.threshold;
      this.sampled(busy, this.loaded);
    }
    return this.loaded;
  }
}
