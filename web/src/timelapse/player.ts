import { ConnectError } from "@connectrpc/connect";
import type { HistoryClient } from "../protocol/history-client.js";
import type { Rect } from "../protocol/rect.js";
import { TIMELAPSE_BAR_REFRESH_MS } from "../protocol/timing.js";
import { TimelapseFrame } from "./frame.js";
import { loadTimeline } from "./loader.js";
import { TimelapsePlayback } from "./playback.js";

/** Where a timelapse player stands. */
export type TimelapseStatus =
  | { kind: "loading"; placements: number }
  | { kind: "ready"; playback: TimelapsePlayback }
  | { kind: "failed"; message: string };

/**
 * A timelapse of one canvas in the page: loads the archived placements, then keeps an offscreen
 * bitmap of the canvas at the playback position that the view draws from like the live canvas.
 * Each animation frame advances the clock, replays only the placements between the old and the
 * new position, and uploads only the changed tiles on screen (putImageData of a dirty rect).
 */
export class TimelapsePlayer {
  /** The canvas at the playback position, one bitmap pixel per canvas pixel (0×0 until loaded). */
  readonly image: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private imageData: ImageData | undefined;
  private current: TimelapseStatus = { kind: "loading", placements: 0 };
  private readonly abort = new AbortController();
  private readonly listeners = new Set<() => void>();
  private lastFrameAt: number | undefined;
  private lastNotifiedAt = -Infinity;

  constructor(history: Pick<HistoryClient, "getPlacements">, canvasId: string) {
    this.image = document.createElement("canvas");
    this.image.width = 0;
    this.image.height = 0;
    const ctx = this.image.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas context");
    this.ctx = ctx;
    loadTimeline(history, canvasId, (placements) => this.setStatus({ kind: "loading", placements }), this.abort.signal).then(
      (timeline) => {
        if (this.abort.signal.aborted) return;
        const frame = new TimelapseFrame(timeline);
        this.image.width = timeline.width;
        this.image.height = timeline.height;
        this.imageData = new ImageData(new Uint8ClampedArray(frame.pixels.buffer, frame.pixels.byteOffset, frame.pixels.byteLength), timeline.width, timeline.height);
        const playback = new TimelapsePlayback(timeline, frame);
        playback.seekBatches(timeline.batches);
        this.setStatus({ kind: "ready", playback });
      },
      (err: unknown) => {
        if (!this.abort.signal.aborted) this.setStatus({ kind: "failed", message: err instanceof ConnectError ? err.rawMessage : String(err) });
      },
    );
  }

  /** Loading, ready (with its playback) or failed. */
  get status(): TimelapseStatus {
    return this.current;
  }

  /** The playback once loaded. */
  get playback(): TimelapsePlayback | undefined {
    return this.current.kind === "ready" ? this.current.playback : undefined;
  }

  /** Calls `listener` on every change worth showing (status, play/pause, a scrub; while playing at most every TIMELAPSE_BAR_REFRESH_MS). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts or stops the clock. */
  setPlaying(playing: boolean): void {
    const p = this.playback;
    if (!p) return;
    if (playing) p.play();
    else p.pause();
    this.lastFrameAt = undefined;
    this.notify();
  }

  /** Plays at `speed`× from now on. */
  setSpeed(speed: number): void {
    const p = this.playback;
    if (!p) return;
    p.speed = speed;
    this.notify();
  }

  /** Shows the first `batches` batches (the scrub bar). */
  seekBatches(batches: number): void {
    this.playback?.seekBatches(batches);
    this.notify();
  }

  /**
   * One animation frame at time `now` (ms): advances a playing clock and uploads the changed
   * tiles inside `visible` to the bitmap. `more`: the next frame is needed (still playing);
   * `changed`: the bitmap changed, so the screen must be drawn again.
   */
  frame(now: number, visible: Rect): { more: boolean; changed: boolean } {
    const p = this.playback;
    const image = this.imageData;
    if (!p || !image) return { more: false, changed: false };
    if (p.playing) {
      p.tick(this.lastFrameAt === undefined ? 0 : now - this.lastFrameAt);
      this.lastFrameAt = now;
      if (!p.playing || now - this.lastNotifiedAt >= TIMELAPSE_BAR_REFRESH_MS) {
        this.lastNotifiedAt = now;
        this.notify();
      }
    }
    const put = p.frame.flush(visible, (r) => this.ctx.putImageData(image, 0, 0, r.x, r.y, r.width, r.height));
    return { more: p.playing, changed: put > 0 };
  }

  /** Stops loading and playing; the player is not used afterwards. */
  close(): void {
    this.abort.abort();
    this.playback?.pause();
    this.listeners.clear();
  }

  private setStatus(status: TimelapseStatus): void {
    this.current = status;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
