import type { PlacementKind } from "./placement-log.js";

/**
 * Field names of one entry of a canvas's Redis history stream (entry id `<seq>-0`), written by the
 * write scripts of canvas-lua.ts:
 * - `b`: the encoded pixel.v1.PixelBatch, exactly as published;
 * - `p`: the previous colour of every pixel of the batch, 3 bytes (R, G, B) each, in the batch's
 *   pixel order, read in the same script just before the write (so it is exact even for a pixel
 *   written twice in one batch: the second write's previous colour is the first's colour);
 * - `k`: why the batch was written, one of HISTORY_KIND_CODES ("u" undo, "r" rollback); absent for an
 *   ordinary placement.
 * The embedded store keeps the same three things per retained batch.
 */
export const HISTORY_FIELDS = { batch: "b", previousColors: "p", kind: "k" } as const;

/** The `k` field's value per PlacementKind; an ordinary placement has no `k` field. */
export const HISTORY_KIND_CODES: Readonly<Record<Exclude<PlacementKind, "place">, string>> = { undo: "u", rollback: "r" };

/** The PlacementKind of a `k` field value (absent or unknown means "place"). */
export function kindOfCode(code: string | undefined): PlacementKind {
  if (code === HISTORY_KIND_CODES.undo) return "undo";
  if (code === HISTORY_KIND_CODES.rollback) return "rollback";
  return "place";
}

/** One retained batch of a canvas's history, with what the log needs beyond the broadcast batch. */
export interface HistoryEntry {
  seq: number;
  epoch: number;
  /** The encoded pixel.v1.PixelBatch as stored: as published, plus its authors (epoch markers, without pixels, are not in history). */
  batch: Uint8Array;
  /** 3 bytes per pixel of the batch, in its order: the colour each pixel had just before. */
  previousColors: Uint8Array;
  kind: PlacementKind;
}

/** A slice of a canvas's retained history (HistorySource.read). */
export interface HistorySlice {
  /** The canvas's current epoch and seq. */
  epoch: number;
  seq: number;
  /** The oldest retained seq of the epoch; undefined when nothing is retained. */
  firstRetainedSeq: number | undefined;
  /**
   * Retained entries of the current epoch with seq > afterSeq, oldest first, at most `limit`; when
   * firstRetainedSeq > afterSeq + 1 they start at firstRetainedSeq (seqs between are lost to history).
   */
  entries: HistoryEntry[];
}

/**
 * Where the archiver reads each canvas's recent history: the Redis history streams
 * (redis-history-source.ts) or the embedded store's in-memory history (MemoryCanvasStore).
 */
export interface HistorySource {
  /** Every canvas that may have history to archive (the registered canvases and the default). */
  canvasIds(): Promise<string[]>;
  /** Reads retained history after a seq; never creates the canvas (an unknown canvas reads as epoch 0, seq 0, nothing retained). */
  read(canvasId: string, afterSeq: number, limit: number): Promise<HistorySlice>;
}
