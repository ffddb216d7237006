import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { PixelBatchSchema, type CanvasService } from "../../../gen/pixel/v1/canvas_pb.js";

/** Which stored batches to read: seq in (afterSeq, throughSeq] of `epoch`. */
export interface RecentBatchesRequest {
  canvasId: string;
  /** Must be at least 1: WatchCanvas reads after_seq 0 as "live batches only". */
  afterSeq: bigint;
  throughSeq: bigint;
  epoch: bigint;
  /** Only the newest batches within this many encoded bytes are kept (the oldest are dropped first). */
  maxBytes: number;
  timeoutMs: number;
}

/**
 * Reads the stored batches (afterSeq, throughSeq] of one epoch from WatchCanvas, which replays the
 * canvas's history stream before following live batches; the watch is ended as soon as throughSeq
 * arrived. Batches come back encoded as the bus carries them, oldest first, contiguous and ending
 * at throughSeq. Rejects when that cannot be read in full: history no longer reaching back
 * (OutOfRange), another epoch (FailedPrecondition), the deadline, or any transport error.
 */
export async function readRecentBatches(canvas: Client<typeof CanvasService>, req: RecentBatchesRequest): Promise<Uint8Array[]> {
  if (req.afterSeq < 1n) throw new ConnectError(`after_seq ${req.afterSeq} would watch live batches only`, Code.InvalidArgument);
  const batches: Uint8Array[] = [];
  let bytes = 0;
  let expected = req.afterSeq + 1n;
  if (expected > req.throughSeq) return batches;
  const abort = new AbortController();
  try {
    for await (const res of canvas.watchCanvas({ canvasId: req.canvasId, afterSeq: req.afterSeq }, { signal: abort.signal, timeoutMs: req.timeoutMs })) {
      const batch = res.batch;
      if (!batch) continue;
      if (batch.epoch !== req.epoch) throw new ConnectError(`history is in epoch ${batch.epoch}, not ${req.epoch}`, Code.FailedPrecondition);
      if (batch.seq !== expected) throw new ConnectError(`history jumped from seq ${expected - 1n} to ${batch.seq}`, Code.DataLoss);
      const payload = toBinary(PixelBatchSchema, batch);
      batches.push(payload);
      bytes += payload.length;
      while (batches.length > 1 && bytes > req.maxBytes) bytes -= (batches.shift() as Uint8Array).length;
      if (batch.seq === req.throughSeq) return batches;
      expected++;
    }
  } finally {
    // Stops the watch's live phase: the batches after throughSeq reach the gateway over the bus.
    abort.abort();
  }
  throw new ConnectError(`the history watch ended before seq ${req.throughSeq}`, Code.Unavailable);
}
