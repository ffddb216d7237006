import { Code, ConnectError } from "@connectrpc/connect";
import { MAX_SNAPSHOT_PIXELS } from "../../shared/config.js";
import { TILE_SIZE, tilesOfRect, type PixelRect } from "../../../protocol/tile-grid.js";
import type { CanvasStore } from "../canvas-store.js";
import type { CanvasInfo } from "../canvas-registry.js";
import { DEFAULT_BACKGROUND } from "../tile-codec.js";
import { LogIncompleteError, LogUnavailableError, type PlacementLog } from "../../history/placement-log.js";
import { MAX_EXPORT_PIXELS } from "./history-settings.js";

/** A rectangle of a canvas at one seq, row-major RGB. */
export interface RegionAt {
  pixels: Uint8Array;
  seq: number;
  epoch: number;
  /** False when read tile by tile (a canvas above GetCanvas's bound), so not one consistent seq. */
  consistent: boolean;
}

/** When to read a canvas: now (both unset), right after a seq, or at a time (ignored when a seq is given). */
export interface Moment {
  seq?: number;
  timeMs?: number;
}

/** The canvas's epoch and seq now, read atomically from its first tile (a small read). */
export async function headOf(store: CanvasStore, canvasId: string): Promise<{ seq: number; epoch: number }> {
  const tile = await store.getTile(canvasId, { tx: 0, ty: 0 });
  return { seq: tile.seq, epoch: tile.epoch };
}

/** Checks a requested rectangle against the canvas and the export bound; InvalidArgument / OutOfRange otherwise. */
export function checkRect(canvas: CanvasInfo, rect: PixelRect | undefined): PixelRect {
  const r = rect ?? { x: 0, y: 0, width: canvas.width, height: canvas.height };
  if (r.width < 1 || r.height < 1) throw new ConnectError("rect width and height must be at least 1", Code.InvalidArgument);
  if (r.x + r.width > canvas.width || r.y + r.height > canvas.height) {
    throw new ConnectError(`rect ${r.x},${r.y} ${r.width}x${r.height} is outside canvas "${canvas.name}" (${canvas.width}x${canvas.height})`, Code.OutOfRange);
  }
  if (r.width * r.height > MAX_EXPORT_PIXELS) {
    throw new ConnectError(`rect ${r.width}x${r.height} is more than ${MAX_EXPORT_PIXELS} pixels; export it in parts`, Code.FailedPrecondition);
  }
  return r;
}

/** Copies a rectangle out of a whole-canvas RGB image. */
export function crop(pixels: Uint8Array, canvasWidth: number, rect: PixelRect): Uint8Array {
  if (rect.x === 0 && rect.y === 0 && rect.width === canvasWidth && pixels.length === rect.width * rect.height * 3) return pixels;
  const out = new Uint8Array(rect.width * rect.height * 3);
  for (let row = 0; row < rect.height; row++) {
    const from = ((rect.y + row) * canvasWidth + rect.x) * 3;
    out.set(pixels.subarray(from, from + rect.width * 3), row * rect.width * 3);
  }
  return out;
}

/**
 * A rectangle as it is now: from one consistent snapshot when the canvas is small enough for
 * GetCanvas, else from the level-0 tiles it touches (each consistent, at the highest seq read).
 */
export async function regionNow(store: CanvasStore, canvas: CanvasInfo, rect: PixelRect): Promise<RegionAt> {
  if (canvas.width * canvas.height <= MAX_SNAPSHOT_PIXELS) {
    const snap = await store.getCanvas(canvas.name);
    return { pixels: crop(snap.pixels, canvas.width, rect), seq: snap.seq, epoch: snap.epoch, consistent: true };
  }
  const out = new Uint8Array(rect.width * rect.height * 3);
  const background = canvas.background ?? DEFAULT_BACKGROUND;
  let seq = 0;
  let epoch = 0;
  for (const coord of tilesOfRect(canvas.width, canvas.height, 0, rect)) {
    const tile = await store.getTile(canvas.name, coord);
    seq = Math.max(seq, tile.seq);
    epoch = tile.epoch;
    const x0 = coord.tx * TILE_SIZE;
    const y0 = coord.ty * TILE_SIZE;
    for (let y = Math.max(rect.y, y0); y < Math.min(rect.y + rect.height, y0 + tile.height); y++) {
      for (let x = Math.max(rect.x, x0); x < Math.min(rect.x + rect.width, x0 + tile.width); x++) {
        const o = ((y - rect.y) * rect.width + x - rect.x) * 3;
        if (tile.pixels === undefined) {
          out[o] = (background >>> 16) & 0xff;
          out[o + 1] = (background >>> 8) & 0xff;
          out[o + 2] = background & 0xff;
        } else out.set(tile.pixels.subarray(((y - y0) * tile.width + x - x0) * 3, ((y - y0) * tile.width + x - x0) * 3 + 3), o);
      }
    }
  }
  return { pixels: out, seq, epoch, consistent: false };
}

/** Runs a log call, mapping its typed failures to precise codes. */
export async function fromLog<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof LogIncompleteError) throw new ConnectError(`the placement log cannot answer this yet: ${err.message}`, Code.FailedPrecondition);
    if (err instanceof LogUnavailableError) throw new ConnectError(`the placement log is unavailable: ${err.message}`, Code.Unavailable);
    throw err;
  }
}

/** The log, or FailedPrecondition saying how to configure one. */
export function requireLog(log: PlacementLog | undefined): PlacementLog {
  if (log === undefined) {
    throw new ConnectError("history is off in this deployment: set HISTORY_DATABASE_URL (PostgreSQL) on the canvas service and run the archiver", Code.FailedPrecondition);
  }
  return log;
}

/**
 * A rectangle of a canvas at a moment of its current epoch: now from the store; in the past rebuilt
 * from the placement log (replayed forward from the background, or reverted backwards from now,
 * whichever reads less). A seq ahead of the canvas is OutOfRange; a time before the first batch
 * reads as seq 0 (the background).
 */
export async function regionAt(store: CanvasStore, log: PlacementLog | undefined, canvas: CanvasInfo, rect: PixelRect, at: Moment): Promise<RegionAt> {
  if (at.seq === undefined && at.timeMs === undefined) return regionNow(store, canvas, rect);
  const now = await regionNow(store, canvas, rect);
  const history = requireLog(log);
  const atSeq = at.seq ?? (await fromLog(() => history.seqAtTime(canvas.name, now.epoch, at.timeMs!)));
  if (atSeq > now.seq) throw new ConnectError(`seq ${atSeq} is ahead of canvas "${canvas.name}" (at seq ${now.seq} of epoch ${now.epoch})`, Code.OutOfRange);
  if (atSeq === now.seq) return now;
  const background = canvas.background ?? DEFAULT_BACKGROUND;
  const pixels = await fromLog(() => history.regionAt({ canvasId: canvas.name, epoch: now.epoch, atSeq, rect, background, ...(now.consistent ? { current: { seq: now.seq, pixels: now.pixels } } : {}) }));
  return { pixels, seq: atSeq, epoch: now.epoch, consistent: true };
}
