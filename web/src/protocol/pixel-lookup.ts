import { Code, ConnectError } from "@connectrpc/connect";
import type { LookupPixelResponse, Placement } from "../../../gen/pixel/v1/history_pb.js";
import { systemClock, type Clock } from "./clock.js";
import type { Point } from "./line-pixels.js";
import { LOOKUP_HOVER_DELAY_MS, LOOKUP_MAX_RETRIES, LOOKUP_RETRY_MS } from "./timing.js";

/** Answers kept at most: the pixels hovered last, oldest forgotten first. */
export const LOOKUP_CACHE_SIZE = 256;

/** What the lookup shows for the pixel under the pointer. */
export type LookupView =
  | { kind: "none" }
  | { kind: "loading"; pixel: Point }
  /** `trailing`: the placement log had not yet archived every batch the page had seen when asked. */
  | { kind: "ready"; pixel: Point; placements: readonly Placement[]; archivedSeq: bigint; more: boolean; trailing: boolean }
  | { kind: "failed"; pixel: Point; message: string };

/** Asks the server who placed a pixel (LookupPixel). */
export type LookupCall = (pixel: Point, signal: AbortSignal) => Promise<LookupPixelResponse>;

interface Entry {
  response: LookupPixelResponse;
  /** The answer covers every batch up to this seq (what the page had seen when it asked). */
  complete: boolean;
}

/**
 * Who placed the pixel under the pointer, without spamming the server: a pixel is asked about
 * only once the pointer rested on it for LOOKUP_HOVER_DELAY_MS (a click asks at once), one
 * request at a time (a newer pixel aborts the older request), and answers are cached per pixel
 * until a batch paints that pixel again, so an answer always belongs to the pixel's current seq.
 * An answer the placement log had not caught up with is shown and asked again shortly. A server
 * without history (FAILED_PRECONDITION, UNIMPLEMENTED) is not asked again: every pixel shows why.
 */
export class PixelLookup {
  private readonly cache = new Map<number, Entry>();
  private wanted: { pixel: Point; key: number; knownSeq: bigint } | undefined;
  private timer: unknown;
  private inFlight: AbortController | undefined;
  private retries = 0;
  /** Why lookups are off on this server, once it said so. */
  private off: string | undefined;

  constructor(
    private readonly call: LookupCall,
    private readonly onView: (view: LookupView) => void,
    private readonly canvasWidth: () => number,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * The pointer is on `pixel` (null: on no pixel); `knownSeq` is the newest seq the page has
   * applied. `immediate` asks without waiting for the pointer to rest (an inspect click).
   */
  show(pixel: Point | null, knownSeq: bigint, immediate = false): void {
    if (!pixel) {
      this.cancel();
      this.wanted = undefined;
      this.onView({ kind: "none" });
      return;
    }
    const key = pixel.y * this.canvasWidth() + pixel.x;
    if (!immediate && this.wanted?.key === key) return;
    this.cancel();
    this.wanted = { pixel, key, knownSeq };
    this.retries = 0;
    if (this.off !== undefined) {
      this.onView({ kind: "failed", pixel, message: this.off });
      return;
    }
    const cached = this.cache.get(key);
    if (cached?.complete) {
      this.onView(readyView(pixel, cached));
      return;
    }
    this.onView({ kind: "none" });
    if (immediate) this.fire();
    else this.timer = this.clock.setTimeout(() => this.fire(), LOOKUP_HOVER_DELAY_MS);
  }

  /** A batch at `seq` painted `pixels`: their answers are out of date (and the one shown is asked again). */
  painted(pixels: Iterable<{ x: number; y: number }>, seq: bigint): void {
    const width = this.canvasWidth();
    const wanted = this.wanted;
    let hit = false;
    for (const p of pixels) {
      const key = p.y * width + p.x;
      if (this.cache.size > 0) this.cache.delete(key);
      if (wanted?.key === key) hit = true;
    }
    if (!wanted || !hit) return;
    wanted.knownSeq = seq > wanted.knownSeq ? seq : wanted.knownSeq;
    this.cancel();
    this.retries = 0;
    this.timer = this.clock.setTimeout(() => this.fire(), LOOKUP_HOVER_DELAY_MS);
  }

  /** Stops any pending request; nothing is reported afterwards. */
  dispose(): void {
    this.cancel();
    this.wanted = undefined;
  }

  private cancel(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private fire(): void {
    const wanted = this.wanted;
    if (!wanted) return;
    const abort = new AbortController();
    this.inFlight = abort;
    this.onView({ kind: "loading", pixel: wanted.pixel });
    this.call(wanted.pixel, abort.signal).then(
      (response) => {
        if (abort.signal.aborted || this.wanted !== wanted) return;
        this.inFlight = undefined;
        const entry: Entry = { response, complete: response.archivedSeq >= wanted.knownSeq };
        this.remember(wanted.key, entry);
        this.onView(readyView(wanted.pixel, entry));
        if (!entry.complete && this.retries < LOOKUP_MAX_RETRIES) {
          this.retries++;
          this.timer = this.clock.setTimeout(() => this.fire(), LOOKUP_RETRY_MS);
        }
      },
      (err: unknown) => {
        if (abort.signal.aborted || this.wanted !== wanted) return;
        this.inFlight = undefined;
        const message = err instanceof ConnectError ? err.rawMessage : String(err);
        if (err instanceof ConnectError && (err.code === Code.FailedPrecondition || err.code === Code.Unimplemented)) this.off = message;
        this.onView({ kind: "failed", pixel: wanted.pixel, message });
      },
    );
  }

  private remember(key: number, entry: Entry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > LOOKUP_CACHE_SIZE) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }
}

function readyView(pixel: Point, entry: Entry): LookupView {
  const r = entry.response;
  return { kind: "ready", pixel, placements: r.placements, archivedSeq: r.archivedSeq, more: r.more, trailing: !entry.complete };
}
