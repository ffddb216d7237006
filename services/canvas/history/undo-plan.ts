import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PixelBatchSchema, type PixelBatch } from "../../../gen/pixel/v1/canvas_pb.js";
import { HISTORY_MAX_BATCHES, type RestoreWrite } from "../canvas-store.js";
import type { HistoryEntry, HistorySource } from "../../history/history-source.js";
import { UNDO_SCAN_CHUNK } from "./history-settings.js";

/** What an undo will write: the caller's last placement and the pixels to give back. */
export interface UndoPlan {
  /** The seq of the placement undone. */
  seq: number;
  /** The caller's display name in it. */
  name: string;
  /** One write per pixel still showing what the placement left. */
  writes: RestoreWrite[];
  /** Pixels of the placement painted since (by anyone), left alone. */
  paintedOver: number;
}

const colorAt = (bytes: Uint8Array, i: number) => (bytes[i * 3]! << 16) | (bytes[i * 3 + 1]! << 8) | bytes[i * 3 + 2]!;

/**
 * Finds `userId`'s newest ordinary placement on a canvas in the store's retained history (not the
 * log, so undo works at once and without a log), scanning back from the newest batch while batches
 * are younger than `windowMs`. Per pixel of the user's runs in that batch it restores the colour the
 * pixel had before the run's first write of it, expecting the colour the batch left there; a pixel
 * a later batch (or a later run of the same batch) painted is left alone. FailedPrecondition, with
 * the reason, when there is no such placement or every pixel of it was painted over.
 */
export async function planUndo(source: HistorySource, canvasId: string, userId: string, nowMs: number, windowMs: number): Promise<UndoPlan> {
  // Nothing is retained after the largest seq: this reads only the epoch and seq (COUNT 0 would read as nil on Redis).
  const head = await source.read(canvasId, Number.MAX_SAFE_INTEGER, 1);
  const paintedAfter = new Set<number>();
  let end = head.seq;
  let scanned = 0;
  while (end > 0 && scanned < HISTORY_MAX_BATCHES) {
    const from = Math.max(0, end - UNDO_SCAN_CHUNK);
    const slice = await source.read(canvasId, from, end - from);
    if (slice.epoch !== head.epoch) break;
    const entries = slice.entries.filter((e) => e.seq <= end);
    for (let k = entries.length - 1; k >= 0; k--) {
      const entry = entries[k]!;
      const batch = fromBinary(PixelBatchSchema, entry.batch);
      if (Number(batch.timeUnixMs) < nowMs - windowMs) return noPlacement(windowMs);
      const plan = entry.kind === "place" ? planFor(entry, batch, userId, paintedAfter) : undefined;
      if (plan !== undefined) return plan;
      for (const p of batch.pixels) paintedAfter.add(key(p.x, p.y));
    }
    scanned += end - from;
    if (entries.length === 0 || (slice.firstRetainedSeq ?? end + 1) > from + 1) break;
    end = from;
  }
  return noPlacement(windowMs);
}

function key(x: number, y: number): number {
  return y * 65536 + x;
}

function noPlacement(windowMs: number): never {
  throw new ConnectError(`you have no placement on this canvas in the last ${windowMs} ms to undo`, Code.FailedPrecondition);
}

/** The undo of `userId`'s runs in one batch, or undefined when the batch has none of theirs. */
function planFor(entry: HistoryEntry, batch: PixelBatch, userId: string, paintedAfter: ReadonlySet<number>): UndoPlan | undefined {
  const owner: string[] = [];
  for (const run of batch.authors) for (let i = 0; i < run.pixelCount; i++) owner.push(run.userId);
  const mine = batch.authors.find((run) => run.userId === userId);
  if (mine === undefined) return undefined;
  // Per pixel: the colour before the user's first write of it, and what the batch left there last (and by whom).
  const before = new Map<number, number>();
  const last = new Map<number, { color: number; mine: boolean }>();
  batch.pixels.forEach((p, i) => {
    const at = key(p.x, p.y);
    const isMine = owner[i] === userId;
    if (isMine && !before.has(at)) before.set(at, colorAt(entry.previousColors, i));
    last.set(at, { color: p.color, mine: isMine });
  });
  const writes: RestoreWrite[] = [];
  for (const [at, color] of before) {
    const left = last.get(at)!;
    if (!left.mine || paintedAfter.has(at)) continue;
    writes.push({ x: at % 65536, y: Math.floor(at / 65536), color, expected: left.color });
  }
  if (writes.length === 0) {
    throw new ConnectError(`every pixel of your last placement (seq ${entry.seq}) has been painted over since (or was already undone), so there is nothing to undo`, Code.FailedPrecondition);
  }
  return { seq: entry.seq, name: mine.name, writes, paintedOver: before.size - writes.length };
}
