import type { PixelLike } from "../../protocol/pixel-validation.js";

/**
 * The durable placement log: every stored batch of every canvas (seq, epoch, time, authors, pixels
 * with their previous colours), written by the archiver from the store's history and read by the
 * HistoryService (lookup, rollback, timelapse, time travel). Two implementations pass one contract
 * suite (placement-log-contract.ts): PostgreSQL (`postgres-placement-log.ts`, HISTORY_DATABASE_URL)
 * and PGlite, PostgreSQL in WASM, for the embedded default (`npm start`, under `.data/history`); both
 * run the same SQL (placement-log-sql.ts).
 *
 * Keys: a batch is (canvasId, epoch, seq); within an epoch seqs are 1, 2, 3, ... without holes in the
 * canvas, and the log holds each at most once (appending it again changes nothing). Seqs the log
 * will never hold (the archiver fell behind the store's retained history) are recorded as gaps, never
 * invented. Seq and epoch are safe integers (epochs are millisecond timestamps).
 *
 * Bans are not here: they live in Redis or the embedded store, where the write path checks them.
 */
export interface PlacementLog {
  /**
   * Appends batches, in one transaction: a batch already in the log (same canvas, epoch and seq) is
   * skipped, so re-archiving after a crash, or two archivers at once, never duplicates a row.
   * Resolves once the batches are durable; returns how many were new.
   */
  append(batches: readonly LogBatch[]): Promise<number>;
  /**
   * Records that the log will never hold seqs from..to of a canvas's epoch (the store no longer
   * retained them when the archiver asked). Recording the same gap again changes nothing.
   */
  recordGap(gap: SeqGap): Promise<void>;
  /** Records that a canvas started an epoch (reset or data loss), with when the archiver saw it. */
  recordEpoch(canvasId: string, epoch: number, seenMs: number): Promise<void>;
  /**
   * Where the archiver resumes a canvas: the newest epoch the log knows for it and the highest seq it
   * holds (or has recorded as a gap) in that epoch; undefined for a canvas never archived.
   */
  lastArchived(canvasId: string): Promise<{ epoch: number; seq: number } | undefined>;
  /** The highest seq held or recorded as a gap in one epoch; 0 when none. */
  archivedSeq(canvasId: string, epoch: number): Promise<number>;
  /** The placements of one pixel over every epoch, newest first (highest epoch, then seq), at most `limit`. */
  lookupPixel(canvasId: string, x: number, y: number, limit: number): Promise<Placement[]>;
  /**
   * Archived batches of an epoch with seq > afterSeq, in seq order: whole batches, stopping once at
   * least `maxPixels` pixels are collected (so at least one batch when any is left). With the gaps
   * recorded among the seqs covered.
   */
  batches(canvasId: string, epoch: number, afterSeq: number, maxPixels: number): Promise<BatchPage>;
  /** The seq of the last batch of an epoch stored at or before `timeMs`; 0 when none was. */
  seqAtTime(canvasId: string, epoch: number, timeMs: number): Promise<number>;
  /**
   * The colours of a rectangle right after `atSeq` of an epoch, row-major RGB (3 bytes per pixel).
   * Needs the log to hold every seq from 1 to atSeq, or from atSeq + 1 to `current.seq` when
   * `current` (the canvas now, for the same rectangle) is given: it replays forward from the
   * background or reverts backwards from `current` with previous colours, whichever reads fewer
   * placements. Throws LogIncompleteError when the seqs it needs are not all archived.
   */
  regionAt(query: RegionQuery): Promise<Uint8Array>;
  /**
   * What rolling back the placements matching `filter` (up to `atSeq` of `epoch`) would restore:
   * per pixel whose newest placement up to atSeq matches the filter, the colour it had before the
   * trailing run of matching placements (the previous colour of the oldest of them); pixels whose
   * newest placement does not match (painted later by someone outside the filter) are counted as
   * skipped. With the number of matching placements and the users who made them.
   */
  rollbackPlan(query: RollbackQuery): Promise<RollbackPlan>;
  /** Appends one audited moderation action; returns it with its id (increasing) and time. */
  recordModeration(action: NewModerationAction): Promise<ModerationActionRecord>;
  /** Moderation actions, newest first: those with id < beforeId (0 = from the newest), of one canvas when given. */
  listModeration(query: { beforeId: number; limit: number; canvasId?: string }): Promise<ModerationActionRecord[]>;
  /** Bytes the log takes on disk (tables and their indexes), for the size per million pixels. */
  sizeOnDisk(): Promise<number>;
  /** Releases the connection (PostgreSQL) or flushes and closes the database (PGlite). */
  close(): Promise<void>;
}

/** Why a batch was written; "undo" and "rollback" batches restore earlier colours. */
export type PlacementKind = "place" | "undo" | "rollback";

/** Who placed a run of consecutive pixels of a batch (PixelBatch.authors). */
export interface LogRun {
  /** Stable user id; empty for a write without a session. */
  userId: string;
  /** Display name; empty means anonymous. */
  name: string;
  pixelCount: number;
}

/** One pixel of a batch with the colour it replaced. */
export interface LogPixel extends PixelLike {
  /** 0xRRGGBB the pixel had just before this batch's write of it. */
  previousColor: number;
}

/** One stored batch as archived. */
export interface LogBatch {
  canvasId: string;
  epoch: number;
  seq: number;
  /** When the store stored it, Unix ms. */
  timeMs: number;
  kind: PlacementKind;
  /** PixelBatch.author: who placed it, free text; empty when several people did. */
  author: string;
  /** In the batch's order. */
  pixels: LogPixel[];
  /**
   * PixelBatch.authors runs over `pixels`; pixels after the last run (a write without a session)
   * belong to userId "" with `author` as their name.
   */
  runs: LogRun[];
}

/** One pixel of an archived batch, as LookupPixel answers it. */
export interface Placement {
  canvasId: string;
  epoch: number;
  seq: number;
  timeMs: number;
  userId: string;
  name: string;
  x: number;
  y: number;
  color: number;
  previousColor: number;
  kind: PlacementKind;
  /** The seq of the undo or rollback batch that next painted this pixel; 0 when none (yet). */
  revertedBySeq: number;
}

/** Seqs from..to (inclusive) of an epoch that the log will never hold. */
export interface SeqGap {
  canvasId: string;
  epoch: number;
  fromSeq: number;
  toSeq: number;
}

/** A page of archived batches (PlacementLog.batches). */
export interface BatchPage {
  batches: LogBatch[];
  /** Gaps overlapping the seqs after afterSeq up to the last batch returned (or the end, when none). */
  gaps: SeqGap[];
  /** The highest seq held or recorded as a gap in the epoch. */
  archivedSeq: number;
  /** The lowest seq held in the epoch, 0 when none, with its time. */
  firstSeq: number;
  firstTimeMs: number;
  /** The time of the batch at archivedSeq (0 when it is a gap or none). */
  archivedTimeMs: number;
}

/** A rectangle of pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What PlacementLog.regionAt reads. */
export interface RegionQuery {
  canvasId: string;
  epoch: number;
  atSeq: number;
  rect: Rect;
  /** 0xRRGGBB of a pixel never painted in the epoch. */
  background: number;
  /** The rectangle's colours now (row-major RGB) and the seq they are at, to revert from when that is shorter. */
  current?: { seq: number; pixels: Uint8Array };
}

/** Which placements a rollback takes back; every condition set must hold, at least one is set. */
export interface RollbackFilter {
  rect?: Rect;
  userId?: string;
  fromTimeMs?: number;
  toTimeMs?: number;
  fromSeq?: number;
  toSeq?: number;
}

/** What PlacementLog.rollbackPlan reads. */
export interface RollbackQuery {
  canvasId: string;
  epoch: number;
  /** Only placements up to this seq count, later ones included when they are outside the filter. */
  atSeq: number;
  filter: RollbackFilter;
}

/** One pixel a rollback would restore. */
export interface RestorePixel {
  x: number;
  y: number;
  /** The colour to write back. */
  color: number;
  /** The colour the newest matching placement left, which the pixel still has unless painted after atSeq. */
  expectedColor: number;
  /** The seq of that newest matching placement. */
  lastSeq: number;
}

/** What a rollback with a filter would do at a seq. */
export interface RollbackPlan {
  epoch: number;
  atSeq: number;
  /** Matching placements (pixels of batches). */
  placements: number;
  /** One entry per pixel to restore, ordered by (y, x). */
  restore: RestorePixel[];
  /** Distinct matching pixels left alone because their newest placement is outside the filter. */
  skipped: number;
  /** Matching placements per user, largest first, at most 20. */
  topUsers: { userId: string; name: string; placements: number }[];
}

/** What an admin did, as recorded (ModerationAction in history.proto). */
export type ModerationKind = "rollback" | "ban" | "unban";

/** A moderation action to record. */
export interface NewModerationAction {
  /** The name of the admin credential. */
  admin: string;
  kind: ModerationKind;
  /** The canvas of a rollback; empty for bans. */
  canvasId: string;
  filter?: RollbackFilter;
  /** The user banned or unbanned; empty for rollbacks. */
  targetUserId: string;
  reason: string;
  /** Rollback: the seqs written, ascending, the epoch and counts; zero for bans. */
  seqs: number[];
  epoch: number;
  pixelsRestored: number;
  pixelsSkipped: number;
}

/** A recorded moderation action. */
export interface ModerationActionRecord extends NewModerationAction {
  id: number;
  timeMs: number;
}

/**
 * The log does not hold every seq a read needs (not archived yet, or a recorded gap). Maps to
 * FailedPrecondition, with the missing seqs in the message.
 */
export class LogIncompleteError extends Error {
  override readonly name = "LogIncompleteError";
}

/** The database cannot be reached right now; the caller may retry. Maps to Unavailable. */
export class LogUnavailableError extends Error {
  override readonly name = "LogUnavailableError";
}
