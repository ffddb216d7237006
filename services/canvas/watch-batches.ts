import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PixelBatchSchema, type PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import type { PixelBus } from "../shared/pixel-bus.js";
import { HISTORY_MAX_BATCHES, type CanvasStore } from "./canvas-store.js";

/** History is read in pages of this many batches, so a long replay never holds one huge reply. */
export const REPLAY_PAGE_BATCHES = 500;

/** A watcher that lets this many live batches queue up unread is ended with ResourceExhausted. */
export const WATCH_QUEUE_MAX_BATCHES = 10_000;

/** What a watch needs. */
export interface WatchBatchesOptions {
  store: CanvasStore;
  bus: PixelBus;
  canvasId: string;
  /** Yield batches with seq > afterSeq; 0 means only live batches from now on. */
  afterSeq: number;
  signal: AbortSignal;
}

/** A store answered "too old" for a range it must replay. */
function historyGone(afterSeq: number): ConnectError {
  return new ConnectError(
    `after_seq ${afterSeq} is not covered by the retained history (at most the last ${HISTORY_MAX_BATCHES} batches of the current epoch); ` +
      "take a snapshot with GetCanvas and watch from its seq",
    Code.OutOfRange,
  );
}

/** Waits for the bus to confirm a subscription, or for the watch to be cancelled. */
async function untilReady(ready: Promise<void>, signal: AbortSignal, canvasId: string): Promise<void> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", (onAbort = () => resolve()), { once: true }));
  try {
    await Promise.race([ready, aborted]);
  } catch (err) {
    throw new ConnectError(`cannot listen to canvas "${canvasId}" right now (${(err as Error).message}); watch again`, Code.Unavailable);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Streams a canvas's batches in seq order without gaps or duplicates: first the retained history
 * after `afterSeq`, then live batches from the bus. It reads history only once the bus confirmed
 * the subscription, so every batch stored after the read is delivered live (queued, and skipped if
 * the replay already covered it). A gap in the live stream (Pub/Sub messages missed across a
 * reconnect) is filled from history; if history no longer covers it the stream ends with Aborted. The stream ends with
 * FailedPrecondition when the epoch changes (reset or data loss): the watcher must resnapshot.
 * Epoch markers (batches without pixels) are never yielded.
 */
export async function* watchBatches(options: WatchBatchesOptions): AsyncGenerator<PixelBatch> {
  const { store, bus, canvasId, afterSeq, signal } = options;
  const queue: Uint8Array[] = [];
  let overflow = false;
  let catchUp = false;
  let wake: (() => void) | undefined;
  const notify = () => wake?.();
  const subscription = bus.subscribe(canvasId, (payload) => {
    if (queue.length >= WATCH_QUEUE_MAX_BATCHES) overflow = true;
    else queue.push(payload);
    notify();
  });
  const offResubscribed = bus.onResubscribed(() => {
    catchUp = true;
    notify();
  });
  signal.addEventListener("abort", notify);

  let last = afterSeq;
  let epoch: bigint | undefined;

  /** Checks a batch's epoch; returns false for an epoch marker of the current epoch (nothing to send). */
  const accept = (batch: PixelBatch): boolean => {
    if (epoch === undefined) epoch = batch.epoch;
    else if (batch.epoch !== epoch) {
      throw new ConnectError(`canvas "${canvasId}" started a new epoch (reset or data loss); take a new snapshot with GetCanvas`, Code.FailedPrecondition);
    }
    return batch.pixels.length > 0;
  };

  /** Replays stored batches after `last` up to `until` (inclusive) or the end of history. */
  async function* replay(until: number): AsyncGenerator<PixelBatch> {
    while (last < until) {
      const page = await store.history(canvasId, last, REPLAY_PAGE_BATCHES);
      if (page === undefined) throw historyGone(last);
      if (page.length === 0) return;
      for (const payload of page) {
        const batch = fromBinary(PixelBatchSchema, payload);
        const seq = Number(batch.seq);
        if (seq <= last) continue;
        if (seq > until) return;
        if (accept(batch)) yield batch;
        last = seq;
      }
      if (page.length < REPLAY_PAGE_BATCHES) return;
    }
  }

  try {
    // A subscription not yet active would miss a batch stored right after the history read.
    await untilReady(subscription.ready, signal, canvasId);
    if (signal.aborted) return;
    if (afterSeq > 0) {
      // The batch at afterSeq itself (the watcher already has it) tells which epoch the watcher is
      // in, so an epoch change is noticed even when nothing is left to replay.
      const anchor = await store.history(canvasId, afterSeq - 1, 1);
      const first = anchor?.[0];
      if (first !== undefined) epoch = fromBinary(PixelBatchSchema, first).epoch;
      yield* replay(Number.MAX_SAFE_INTEGER);
    }
    let started = afterSeq > 0;
    for (;;) {
      if (signal.aborted) return;
      if (overflow) throw new ConnectError("the watcher is too slow to follow the canvas; watch again", Code.ResourceExhausted);
      if (catchUp && started) {
        catchUp = false;
        yield* replay(Number.MAX_SAFE_INTEGER);
        continue;
      }
      const payload = queue.shift();
      if (payload === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const batch = fromBinary(PixelBatchSchema, payload);
      const seq = Number(batch.seq);
      if (!started) {
        // Live-only watch: the first batch heard sets the starting point.
        started = true;
        last = batch.pixels.length > 0 ? seq - 1 : seq;
      }
      const hasPixels = accept(batch);
      if (seq <= last) continue;
      if (seq > last + 1) {
        try {
          yield* replay(seq - 1);
        } catch (err) {
          if (err instanceof ConnectError && err.code === Code.OutOfRange) {
            throw new ConnectError(`the watch missed batches ${last + 1}..${seq - 1}, which are no longer in history; watch again`, Code.Aborted);
          }
          throw err;
        }
        if (last !== seq - 1) throw new ConnectError(`the watch missed batches ${last + 1}..${seq - 1}; watch again`, Code.Aborted);
      }
      if (hasPixels) yield batch;
      last = seq;
    }
  } finally {
    subscription.unsubscribe();
    offResubscribed();
    signal.removeEventListener("abort", notify);
  }
}
