import type { BatchHeader } from "../../../protocol/batch-scan.js";
import { batchFrame } from "../../../protocol/server-frames.js";
import { scanBatchTiles } from "../../../protocol/tile-watch.js";
import { RingEntry } from "./batch-ring.js";

/** The head a history must end at: its seq and epoch. */
export interface HistoryHead {
  seq: bigint;
  epoch: bigint;
}

/** A history's ring entries, or why it cannot seed the ring (with fields for the log line). */
export type RingSeed =
  | { ok: true; entries: { seq: bigint; entry: RingEntry }[] }
  | { ok: false; reason: string; detail: Record<string, unknown> };

/**
 * The resume-ring entries for stored batches (oldest first) before `head`, when they are all
 * decodable, contiguous, in the head's epoch and end at its seq; a history that does not chain onto
 * the head would replay batches a client never saw, so it seeds nothing. `columns` keys the tiles.
 */
export function ringSeed(history: readonly Uint8Array[], head: HistoryHead, columns: number): RingSeed {
  let scanned: { header: BatchHeader; tiles: number[] }[];
  try {
    scanned = history.map((payload) => scanBatchTiles(payload, columns));
  } catch (err) {
    return { ok: false, reason: "undecodable history batch", detail: { err: (err as Error).message } };
  }
  const headers = scanned.map((s) => s.header);
  const first = headers[0];
  if (first === undefined) return { ok: true, entries: [] };
  const chains = headers.every((h, i) => h.epoch === head.epoch && h.seq === first.seq + BigInt(i)) && first.seq + BigInt(headers.length - 1) === head.seq;
  if (!chains) {
    return { ok: false, reason: "history does not end at the snapshot", detail: { seq: String(head.seq), from: String(first.seq), batches: headers.length } };
  }
  return { ok: true, entries: history.map((payload, i) => ({ seq: headers[i]!.seq, entry: new RingEntry(batchFrame(payload), scanned[i]!.tiles) })) };
}
