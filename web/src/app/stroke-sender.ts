import type { CanvasClient } from "../protocol/canvas-client.js";
import type { PlaceResult } from "../protocol/canvas-client-types.js";
import { systemClock, type Clock } from "../protocol/clock.js";
import type { Point } from "../protocol/line-pixels.js";
import { PixelPacer } from "../protocol/pixel-pacer.js";
import { STROKE_FLUSH_INTERVAL_MS } from "../protocol/timing.js";

/** Refusals the sender reports to the UI. */
export type StrokeRefusal = Extract<PlaceResult, { ok: false }>;

/**
 * Turns a drag into Place frames: buffers the stroke's pixels (latest colour per pixel wins),
 * skips pixels that already show that colour, and flushes at most one frame per
 * STROKE_FLUSH_INTERVAL_MS within the connection's pixel rate, so a drag neither floods the
 * gateway with one frame per pointer event nor gets refused for going too fast.
 */
export class StrokeSender {
  private readonly queue = new Map<number, { x: number; y: number; color: number }>();
  private readonly pacer: PixelPacer;
  private timer: unknown;
  private lastFlushAt = -Infinity;

  constructor(
    private readonly client: CanvasClient,
    private readonly onRefused: (refusal: StrokeRefusal) => void,
    private readonly clock: Clock = systemClock,
  ) {
    this.pacer = new PixelPacer(200, 200, () => clock.now());
    client.on("welcome", (w) => {
      // One second of the announced rate as burst stays within the gateway's own (larger) burst.
      if (w.pixelsPerSecond > 0) this.pacer.configure(w.pixelsPerSecond, w.pixelsPerSecond);
    });
  }

  /** Pixels waiting for rate tokens. */
  get queued(): number {
    return this.queue.size;
  }

  /** Adds stroke pixels in `color`; the first pixels of a stroke go out at once. */
  add(points: readonly Point[], color: number): void {
    const { width } = this.client.canvas;
    for (const p of points) {
      const key = p.y * width + p.x;
      // Re-inserting moves the pixel to the end, so the send order follows the stroke.
      this.queue.delete(key);
      this.queue.set(key, { x: p.x, y: p.y, color });
    }
    const sinceLast = this.clock.now() - this.lastFlushAt;
    if (sinceLast >= STROKE_FLUSH_INTERVAL_MS) this.flush();
    else this.schedule(STROKE_FLUSH_INTERVAL_MS - sinceLast);
  }

  /** Drops everything still queued (e.g. the connection went away). */
  cancel(): void {
    this.queue.clear();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends what the rate allows now, in one Place frame, and schedules the rest. */
  flush(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.lastFlushAt = this.clock.now();
    if (this.client.state !== "live") {
      if (this.queue.size > 0) this.onRefused({ ok: false, reason: "not-live", state: this.client.state });
      this.queue.clear();
      return;
    }
    const canvas = this.client.canvas;
    for (const [key, p] of this.queue) if (canvas.colorAt(p.x, p.y) === p.color) this.queue.delete(key);
    if (this.queue.size === 0) return;
    const limit = Math.max(1, this.client.limits.maxPixelsPerPlace);
    const granted = this.pacer.take(Math.min(this.queue.size, limit));
    if (granted > 0) {
      const batch: Array<{ x: number; y: number; color: number }> = [];
      for (const [key, p] of this.queue) {
        if (batch.length === granted) break;
        batch.push(p);
        this.queue.delete(key);
      }
      const result = this.client.place(batch);
      if (!result.ok) {
        this.pacer.refund(granted);
        this.queue.clear();
        this.onRefused(result);
        return;
      }
    }
    if (this.queue.size > 0) this.schedule(STROKE_FLUSH_INTERVAL_MS);
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
  }
}
