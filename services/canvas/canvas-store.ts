import type { PixelLike } from "../../protocol/pixel-validation.js";
import type { TileCoord } from "../../protocol/tile-grid.js";

/**
 * How many batches of history each canvas keeps for WatchCanvas and resuming clients.
 * Redis trims with `MAXLEN ~`, so it may keep slightly more. Worst case memory per canvas is
 * this many times the largest batch (10,000 pixels at about 12 bytes each, plus 3 bytes of previous
 * colour for the placement log's archiver), so about 1.5 GB if every batch were full; real batches
 * from the gateway are far smaller. It is also how far the archiver may fall behind without a gap.
 */
export const HISTORY_MAX_BATCHES = 10_000;

/**
 * How far past its bound the embedded store lets history grow before trimming it back, so the
 * array copy of a trim is amortised over this many writes (Redis's `MAXLEN ~` is its equivalent).
 */
export const HISTORY_TRIM_SLACK = 256;

/** How many of the oldest retained batches to drop, once `retained` has outgrown `limit` by HISTORY_TRIM_SLACK. */
export function historyExcess(retained: number, limit: number): number {
  return retained > limit + HISTORY_TRIM_SLACK ? retained - limit : 0;
}

/**
 * What `CanvasStore.history` answers for `afterSeq`, given the canvas's seq and the seq of the
 * oldest retained batch (undefined when none is retained): "none" (nothing newer: an empty list),
 * "snapshot" (the history does not reach back to afterSeq + 1, or afterSeq is ahead: undefined),
 * or "replay" (the batches after afterSeq).
 */
export function historyWindow(afterSeq: number, seq: number, firstRetainedSeq: number | undefined): "none" | "snapshot" | "replay" {
  if (afterSeq === seq) return "none";
  if (afterSeq > seq || firstRetainedSeq === undefined || firstRetainedSeq > afterSeq + 1) return "snapshot";
  return "replay";
}

/**
 * The epoch that replaces `previous`: the wall clock in ms, but always strictly greater than
 * `previous`, so two epochs started within one millisecond still differ and order. The Redis
 * store's Lua (`new_epoch` in canvas-lua.ts) applies the same rule to Redis's clock.
 */
export function nextEpoch(previous = 0, now = Date.now()): number {
  return Math.max(now, previous + 1);
}

/** The size of one canvas, as registered (canvas-registry.ts). */
export interface CanvasShape {
  width: number;
  height: number;
  /** 0xRRGGBB of every pixel never painted; unset means white. */
  background?: number;
}

/**
 * Where a store learns each canvas's size: the registered shape, or undefined for a canvas the
 * caller has not resolved, which then gets the store's configured default size.
 */
export type CanvasShapeOf = (canvasId: string) => CanvasShape | undefined;

/** A whole canvas at one seq. Seq and epoch are safe integers. */
export interface CanvasSnapshot {
  canvasId: string;
  width: number;
  height: number;
  /** The seq of the last batch included in `pixels`. */
  seq: number;
  /**
   * Changes whenever history cannot be trusted (reset, data loss), always to a greater value
   * (`nextEpoch`); a client holding another one must resnapshot.
   */
  epoch: number;
  /** Row-major, 3 bytes per pixel (R, G, B). */
  pixels: Uint8Array;
}

/** One level-0 tile at one seq, read atomically with its version and the canvas's seq. */
export interface TileSnapshot {
  width: number;
  height: number;
  /** The canvas seq the tile is consistent at. */
  seq: number;
  epoch: number;
  /** The seq of the last batch that painted the tile in this epoch; 0 if none did. */
  version: number;
  /** Row-major RGB of the tile (its clipped size), or undefined when it was never painted (all the background). */
  pixels: Uint8Array | undefined;
}

/** The versions of every painted tile of a canvas, read atomically with its seq. */
export interface TileVersions {
  seq: number;
  epoch: number;
  /** Tile name ("tx:ty", tile-grid.ts `tileName`) -> version; a tile never painted is absent. */
  versions: Map<string, number>;
}

/** Where a stored batch landed. */
export interface StoredPosition {
  seq: number;
  epoch: number;
}

/**
 * One placement of a batch: the next `pixelCount` pixels, charged to a person's and a network's
 * placement budget (see placement-budget.ts). The keys are the raw ids; the store adds its prefixes.
 */
export interface PlacementRun {
  pixelCount: number;
  /** The person's budget key: a user id, or a caller's anonymous key. */
  userKey: string;
  /** The network's budget key (an IPv4 address or IPv6 /64); empty means none. Never stored or published. */
  ipKey: string;
  /** Who placed it, published in the batch's authors if the run is stored; absent for an anonymous caller. */
  author?: { userId: string; name: string };
}

/** Where a batch landed, and which of its runs it holds. */
export interface StoredBatch extends StoredPosition {
  /**
   * Per run, in order: 0 when stored, else the ms until its budgets could hold it. When every run
   * was refused nothing was written and `seq` is the canvas's current seq.
   */
  retryAfterMs: number[];
}

/** One pixel of a restore (undo or rollback): `color` is written only while the pixel still shows `expected`. */
export interface RestoreWrite {
  x: number;
  y: number;
  /** The colour to put back, 0xRRGGBB. */
  color: number;
  /** The colour the unwanted placement left; any other colour now means someone painted the pixel since. */
  expected: number;
}

/** What a restore batch is and who it is attributed to. */
export interface RestoreOptions {
  kind: "undo" | "rollback";
  /** PixelBatch.author of the batch. */
  author: string;
  /** One PixelBatch.authors run over the restored pixels (an undo's user); unset for none (a rollback). */
  by?: { userId: string; name: string };
  /**
   * An undo's allowance: at most `perWindow` restore batches by `userId` on this canvas per
   * `windowMs` (a fixed window from the first), charged atomically with the write and only when
   * something is restored.
   */
  limit?: { userId: string; perWindow: number; windowMs: number };
}

/** What a restore wrote. */
export interface RestoredBatch extends StoredPosition {
  /** Pixels written back; 0 means nothing was written and `seq` is the canvas's current seq. */
  restored: number;
  /** Pixels left alone because their colour was no longer `expected`. */
  skipped: number;
  /** When `limit` refused the restore: ms until it would be allowed; else 0. */
  retryAfterMs: number;
}

/** Most pixels one restore batch takes (the protocol's limit for one SetPixels). */
export const MAX_RESTORE_PIXELS = 10_000;

/**
 * Storage of every canvas, tile by tile (tile-grid.ts): a tile costs nothing until a batch paints
 * it, and each painted tile carries a version, the seq of the last batch that painted it. A write
 * is atomic (its budget charges, all its tiles, their versions, the seq, history and publication)
 * and gets the next seq; storage order, seq order and publish order are the same.
 * Implementations publish every stored batch as a binary
 * `pixel.v1.PixelBatch` (seq, epoch, canvas_id, pixels, author, time_unix_ms, authors) on the canvas channel.
 *
 * Whenever the epoch changes (reset, or detected data loss) an implementation also publishes an
 * epoch marker: a PixelBatch without pixels carrying the new epoch, so consumers resnapshot.
 */
export interface CanvasStore {
  /**
   * Reads a consistent snapshot; creates the canvas's storage (every pixel its background, seq 0,
   * new epoch) if it does not exist. Sizes and backgrounds come from the store's `shapeOf` (the registry). It is assembled from the canvas's tiles, so callers bound the canvas size.
   */
  getCanvas(canvasId: string): Promise<CanvasSnapshot>;
  /**
   * Reads one level-0 tile with its version and the canvas's seq, atomically; creates the canvas as
   * getCanvas does. A tile outside the canvas throws RangeError.
   */
  getTile(canvasId: string, tile: TileCoord): Promise<TileSnapshot>;
  /** Reads the version of every painted tile with the canvas's seq, atomically; creates the canvas as getCanvas does. */
  tileVersions(canvasId: string): Promise<TileVersions>;
  /**
   * Stores already validated pixels as one batch; resolves only once the write is durable as
   * configured. With `runs` (pixel counts adding up to pixels.length) each run is first checked
   * against the canvas's placement budgets, atomically with the write, and refused runs are left
   * out, pixels and authorship alike; without, all pixels are one unbudgeted run without authors.
   * Throws PlacementTooLargeError when a run could never fit its budget.
   */
  setPixels(canvasId: string, pixels: readonly PixelLike[], author: string, runs?: readonly PlacementRun[]): Promise<StoredBatch>;
  /**
   * Writes an undo or rollback as one ordinary sequenced batch (published, in history with kind
   * and previous colours), atomically: each pixel is written only if it still shows its `expected`
   * colour, so a pixel painted since the restore was planned is left alone. At most
   * MAX_RESTORE_PIXELS writes, at most one per pixel (RangeError otherwise).
   */
  restore(canvasId: string, writes: readonly RestoreWrite[], options: RestoreOptions): Promise<RestoredBatch>;
  /**
   * Encoded PixelBatches with seq > afterSeq of the current epoch, oldest first, at most `limit`.
   * Resolves undefined when the retained history does not reach back to afterSeq + 1 (or afterSeq is
   * ahead of the canvas), so the caller must take a snapshot instead.
   */
  history(canvasId: string, afterSeq: number, limit: number): Promise<Uint8Array[] | undefined>;
  /** The canvas's current seq (0 when never painted in its epoch), without creating it. */
  currentSeq(canvasId: string): Promise<number>;
  /** Clears the canvas (every pixel its background again), restarts seq at 0 and starts a new epoch. */
  reset(canvasId: string): Promise<{ epoch: number }>;
  /** True while reads and writes can succeed. */
  isReady(): boolean;
  /** Flushes what must be kept and releases connections; later calls fail with StoreUnavailableError. */
  close(): Promise<void>;
}

/** The store cannot be reached right now (Redis down, slow or loading); the caller may retry. Maps to Unavailable. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}

/**
 * The stored canvas has another size than this deployment is configured with. Maps to
 * FailedPrecondition: an operator must reset the canvas (or restore the old size) to resize it.
 */
export class CanvasSizeMismatchError extends Error {
  override readonly name = "CanvasSizeMismatchError";
}

/** A placement is bigger than its canvas's budget could ever hold (burst or cooldown pixels). Maps to InvalidArgument. */
export class PlacementTooLargeError extends Error {
  override readonly name = "PlacementTooLargeError";
}

/** Checks a restore's writes: at most MAX_RESTORE_PIXELS, inside the canvas, one per pixel. */
export function checkRestoreWrites(writes: readonly RestoreWrite[], width: number, height: number): void {
  if (writes.length > MAX_RESTORE_PIXELS) throw new RangeError(`a restore takes at most ${MAX_RESTORE_PIXELS} pixels, got ${writes.length}`);
  const seen = new Set<number>();
  for (const w of writes) {
    if (w.x >= width || w.y >= height) throw new RangeError(`pixel (${w.x}, ${w.y}) is outside the ${width}x${height} canvas`);
    const at = w.y * width + w.x;
    if (seen.has(at)) throw new RangeError(`pixel (${w.x}, ${w.y}) appears twice in one restore`);
    seen.add(at);
  }
}
