import type { TickClock } from "../room/fanout-tick.js";

interface Scheduled {
  /** Undefined for soon(): runs at the end of the current turn, before any timer. */
  at: number | undefined;
  fn: () => void;
}

/** A TickClock for tests: time moves only on advance(), and soon() callbacks run on runSoon(). */
export class ManualTickClock implements TickClock {
  time = 0;
  private readonly scheduled = new Set<Scheduled>();

  now(): number {
    return this.time;
  }

  soon(fn: () => void): () => void {
    return this.add({ at: undefined, fn });
  }

  after(fn: () => void, ms: number): () => void {
    return this.add({ at: this.time + ms, fn });
  }

  /** Number of callbacks waiting, of either kind. */
  get waiting(): number {
    return this.scheduled.size;
  }

  /** Runs the soon() callbacks, as the event loop does after this turn's I/O. */
  runSoon(): void {
    for (const s of [...this.scheduled]) {
      if (s.at !== undefined || !this.scheduled.delete(s)) continue;
      s.fn();
    }
  }

  /** Runs soon() callbacks, then moves time forward by `ms`, running every timer that falls due, earliest first. */
  advance(ms: number): void {
    this.runSoon();
    const end = this.time + ms;
    for (;;) {
      let due: Scheduled | undefined;
      for (const s of this.scheduled) if (s.at !== undefined && s.at <= end && (!due || s.at < due.at!)) due = s;
      if (!due) break;
      this.scheduled.delete(due);
      this.time = Math.max(this.time, due.at!);
      due.fn();
      this.runSoon();
    }
    this.time = end;
  }

  private add(s: Scheduled): () => void {
    this.scheduled.add(s);
    return () => this.scheduled.delete(s);
  }
}
