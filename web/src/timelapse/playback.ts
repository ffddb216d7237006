import type { TimelapseFrame } from "./frame.js";
import { batchesBy, durationMs, placementsAfter, type Timeline } from "./timeline.js";

/** The speeds the player offers: canvas time per real time. */
export const TIMELAPSE_SPEEDS = [1, 10, 100, 1000] as const;
/** A frame never advances the clock by more than this (a hidden tab's rAF pause is not played as a jump). */
const MAX_FRAME_STEP_MS = 250;

/**
 * Where a timelapse stands and how it moves: a play clock (ms of canvas time, see batchPlayMs)
 * that advances by real time × speed while playing, and the number of batches shown, which the
 * frame follows. Scrubbing sets the batches directly; playing on continues from there.
 */
export class TimelapsePlayback {
  /** Batches shown: 0 is the empty canvas, timeline.batches the last archived state. */
  batch = 0;
  speed: number = TIMELAPSE_SPEEDS[0];
  private playMs = 0;
  private running = false;

  constructor(
    readonly timeline: Timeline,
    readonly frame: TimelapseFrame,
  ) {}

  /** Whether the clock runs. */
  get playing(): boolean {
    return this.running;
  }

  /** The seq of the last batch shown (0 before the first). */
  get seq(): number {
    return this.batch === 0 ? 0 : this.timeline.batchSeq[this.batch - 1]!;
  }

  /** When the last batch shown was stored, Unix ms (0 before the first). */
  get timeUnixMs(): number {
    return this.batch === 0 ? 0 : this.timeline.batchTime[this.batch - 1]!;
  }

  /** Starts the clock; from the start again when at the end. */
  play(): void {
    if (this.timeline.batches === 0) return;
    if (this.batch >= this.timeline.batches) this.seekBatches(0);
    this.running = true;
  }

  /** Stops the clock where it is. */
  pause(): void {
    this.running = false;
  }

  /** Shows the first `batches` batches (a scrub). */
  seekBatches(batches: number): void {
    const b = Math.max(0, Math.min(this.timeline.batches, Math.round(batches)));
    this.batch = b;
    this.playMs = b === 0 ? 0 : this.timeline.batchPlayMs[b - 1]!;
    this.frame.seek(placementsAfter(this.timeline, b));
  }

  /** Advances the clock by `dtMs` of real time; returns whether the frame moved. Stops at the end. */
  tick(dtMs: number): boolean {
    if (!this.running) return false;
    this.playMs += Math.min(MAX_FRAME_STEP_MS, Math.max(0, dtMs)) * this.speed;
    let b = batchesBy(this.timeline, this.playMs);
    if (this.playMs >= durationMs(this.timeline)) {
      b = this.timeline.batches;
      this.running = false;
    }
    if (b === this.batch) return false;
    this.batch = b;
    this.frame.seek(placementsAfter(this.timeline, b));
    return true;
  }
}
