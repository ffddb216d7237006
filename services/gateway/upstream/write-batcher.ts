import { Code, ConnectError } from "@connectrpc/connect";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import { ErrorCode } from "../../../gen/pixel/v1/realtime_pb.js";
import type { Logger } from "../../shared/logger.js";
import { isRetryable, type CanvasClient } from "./canvas-client.js";

/**
 * The outcome of one Place: the seq of the batch that stored it, or why it was not confirmed
 * (after a cut connection or a timeout it may still have been stored, and then arrives in a batch).
 */
export type PlaceResult = { ok: true; seq: bigint } | { ok: false; code: ErrorCode; message: string; retryAfterMs?: number };

/** One validated Place waiting to be stored. */
export interface QueuedPlace {
  pixels: PixelLike[];
  clientSeq: number;
  /** Placements of one connection share its name as the batch author. */
  connectionId: string;
  name: string;
  /** The placing session's stable user id: recorded in the stored batch, and whose placement budget it is charged to (the canvas service checks it per Place, across gateways). */
  userId: string;
  /** The client's network key (IPv4 address or IPv6 /64), for the per-network budget. */
  ipKey: string;
  /** Called exactly once with the outcome. */
  settle(result: PlaceResult): void;
}

/** Bounds and timing of a batcher. */
export interface WriteBatcherOptions {
  /** Most pixels waiting (not in flight) per canvas; a Place beyond it is refused as overloaded. */
  maxQueuedPixels: number;
  maxPixelsPerCall: number;
  /** SetPixels calls in flight at once per canvas. */
  maxInFlight: number;
  /** How long after a Place was queued the gateway keeps retrying it. */
  deadlineMs: number;
  attemptTimeoutMs: number;
  backoffBaseMs: number;
  maxBackoffMs: number;
}

/** Observers for metrics. */
export interface WriteBatcherHooks {
  /** One SetPixels attempt finished with `result` ("ok" or a Code name) after `seconds`. */
  called(result: string, seconds: number): void;
  /** The queue grew (positive) or shrank (negative) by this many pixels. */
  queueChanged(deltaPixels: number): void;
}

interface Entry {
  place: QueuedPlace;
  queuedAt: number;
}

/**
 * Coalesces the placements of one canvas into SetPixels calls: with a call slot free
 * a Place goes at once; whatever arrives while calls are in flight rides the next
 * call (split at maxPixelsPerCall). Each Place is settled exactly once, with the seq
 * after the service stored it, or with an error; never dropped silently.
 */
export class WriteBatcher {
  private queue: Entry[] = [];
  private head = 0;
  private queued = 0;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly canvasId: string,
    private readonly client: Pick<CanvasClient, "setPixels">,
    private readonly options: WriteBatcherOptions,
    private readonly hooks: WriteBatcherHooks,
    private readonly log: Logger,
  ) {}

  /** Pixels waiting for a call slot. */
  get queuedPixels(): number {
    return this.queued;
  }

  /** SetPixels calls currently running (including their retries). */
  get callsInFlight(): number {
    return this.inFlight;
  }

  /** True when nothing is queued or in flight. */
  get idle(): boolean {
    return this.inFlight === 0 && this.queue.length === this.head;
  }

  /** Queues a Place; returns false (and keeps nothing) when the queue is full. */
  enqueue(place: QueuedPlace): boolean {
    // A free slot means the Place goes out right away, so it never counts against the bound.
    if (this.inFlight >= this.options.maxInFlight && this.queued + place.pixels.length > this.options.maxQueuedPixels) return false;
    this.queue.push({ place, queuedAt: Date.now() });
    this.queued += place.pixels.length;
    this.hooks.queueChanged(place.pixels.length);
    this.pump();
    return true;
  }

  /** Resolves once every queued and in-flight Place has been settled. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.head < this.queue.length) {
      const call = this.take();
      this.inFlight++;
      void this.run(call).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.idle) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  /** Removes the oldest entries that fit in one call (always at least one). */
  private take(): Entry[] {
    const call: Entry[] = [];
    let pixels = 0;
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head]!;
      if (call.length > 0 && pixels + entry.place.pixels.length > this.options.maxPixelsPerCall) break;
      call.push(entry);
      pixels += entry.place.pixels.length;
      this.head++;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.queued -= pixels;
    this.hooks.queueChanged(-pixels);
    return call;
  }

  private async run(call: Entry[]): Promise<void> {
    const pixels = call.length === 1 ? call[0]!.place.pixels : call.flatMap((e) => e.place.pixels);
    const first = call[0]!.place.connectionId;
    const author = call.every((e) => e.place.connectionId === first) ? call[0]!.place.name : "";
    // One Author run per Place: the canvas service admits or refuses each against its owner's budgets.
    const authors = call.map((e) => ({ userId: e.place.userId, name: e.place.name, pixelCount: e.place.pixels.length, ipKey: e.place.ipKey }));
    // FIFO: the first entry is the oldest, so its deadline bounds the call.
    const deadline = call[0]!.queuedAt + this.options.deadlineMs;
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        return this.fail(call, ErrorCode.UNAVAILABLE, `the canvas service did not confirm storing the pixels within ${this.options.deadlineMs} ms; they may not be stored (if they were, they arrive in a batch); try again`);
      }
      const started = performance.now();
      try {
        const res = await this.client.setPixels(this.canvasId, pixels, author, Math.min(this.options.attemptTimeoutMs, remaining), authors);
        this.hooks.called("ok", (performance.now() - started) / 1000);
        call.forEach((e, i) => {
          const result = res.results?.[i];
          if (result === undefined || result.stored) return e.place.settle({ ok: true, seq: res.seq });
          if (result.banned) return e.place.settle({ ok: false, code: ErrorCode.BANNED, message: bannedMessage(result.banReason ?? "") });
          e.place.settle({
            ok: false,
            code: ErrorCode.RATE_LIMITED,
            message: `placing ${e.place.pixels.length} pixels exceeds the placement budget of you or your network on this canvas (shared by all your connections, on every gateway); nothing was stored, retry in ${result.retryAfterMs} ms`,
            retryAfterMs: result.retryAfterMs,
          });
        });
        return;
      } catch (err) {
        const error = ConnectError.from(err);
        this.hooks.called(Code[error.code] ?? String(error.code), (performance.now() - started) / 1000);
        // A retry of an attempt that did land stores the same pixels again: same colors, one more batch.
        if (isRetryable(error)) {
          // Equal jitter: never a zero wait (a refused connection fails instantly), never in lockstep.
          const cap = Math.min(this.options.maxBackoffMs, this.options.backoffBaseMs * 2 ** attempt);
          const backoff = cap / 2 + Math.random() * (cap / 2);
          this.log.warn({ canvasId: this.canvasId, attempt, code: Code[error.code], err: error.rawMessage }, "SetPixels failed; retrying");
          await new Promise((r) => setTimeout(r, Math.min(backoff, Math.max(0, deadline - Date.now()))));
          continue;
        }
        if (error.code === Code.InvalidArgument && call.length > 1) {
          // One merged placement was refused: store the others, and refuse only that one.
          for (const entry of call) await this.run([entry]);
          return;
        }
        if (error.code === Code.InvalidArgument) return this.fail(call, ErrorCode.INVALID_ARGUMENT, error.rawMessage);
        if (error.code === Code.NotFound) return this.fail(call, ErrorCode.NOT_FOUND, error.rawMessage);
        // Every run of the call was a banned user's (the service names the reason).
        if (error.code === Code.PermissionDenied) return this.fail(call, ErrorCode.BANNED, error.rawMessage);
        this.log.error({ canvasId: this.canvasId, code: Code[error.code], err: error.rawMessage }, "SetPixels failed");
        return this.fail(call, ErrorCode.INTERNAL, "the gateway could not store the pixels: they were not confirmed stored (if they were, they arrive in a batch)");
      }
    }
  }

  private fail(call: Entry[], code: ErrorCode, message: string): void {
    for (const e of call) e.place.settle({ ok: false, code, message });
  }
}

/** What a banned user's Place is answered with. */
function bannedMessage(reason: string): string {
  return `you are banned from placing pixels${reason === "" ? "" : `: ${reason}`}; nothing was stored`;
}
