import type { Logger } from "../shared/logger.js";
import type { MemoryPixelBus } from "../shared/pixel-bus.js";
import type { PixelLike } from "../../protocol/pixel-validation.js";
import { TILE_SIZE, tileName, tileRect, type TileCoord } from "../../protocol/tile-grid.js";
import { PERSIST_INTERVAL_MS } from "../shared/timing.js";
import { assembleTiles } from "./assemble-tiles.js";
import { canvasFilePath, readCanvasFile, writeCanvasFile, type StoredTile } from "./canvas-file.js";
import {
  CanvasSizeMismatchError,
  HISTORY_MAX_BATCHES,
  historyExcess,
  historyWindow,
  nextEpoch,
  StoreUnavailableError,
  type CanvasShape,
  type CanvasShapeOf,
  type CanvasSnapshot,
  type CanvasStore,
  type PlacementRun,
  type RestoredBatch,
  type RestoreOptions,
  type RestoreWrite,
  type StoredBatch,
  checkRestoreWrites,
  type TileSnapshot,
  type TileVersions,
} from "./canvas-store.js";
import { canvasKeys } from "../shared/redis-keys.js";
import { BudgetLedger } from "./budget-ledger.js";
import { canvasBudget, type BudgetSettings } from "./budget-settings.js";
import { resolveRuns } from "./placement-runs.js";
import { encodeAuthor, encodeBatchBody, encodeBatchHead, encodeBatchTail, encodePixels, prefixSeqEpoch } from "./pixel-batch-codec.js";
import { backgroundTile, DEFAULT_BACKGROUND } from "./tile-codec.js";
import type { HistorySlice } from "../history/history-source.js";
import type { PlacementKind } from "../history/placement-log.js";

/** What a MemoryCanvasStore needs. */
export interface MemoryCanvasStoreOptions {
  width: number;
  height: number;
  bus: MemoryPixelBus;
  logger: Logger;
  /** Directory of the saved canvases; unset keeps them in memory only. */
  dataDir?: string;
  /** History bound per canvas; defaults to HISTORY_MAX_BATCHES. */
  historyLimit?: number;
  /** Placement budgets per canvas; unset means none (every run is stored). */
  budgets?: BudgetSettings;
  /** Each canvas's registered size; unset (or undefined for a canvas) means `width` x `height`. */
  shapeOf?: CanvasShapeOf;
}

/** One retained batch: the stored bytes (the published ones plus authorship) and what the history entry adds (history-source.ts). */
interface RetainedBatch {
  payload: Uint8Array;
  /** 3 bytes per pixel, in the batch's order: the colour each had just before. */
  previousColors: Uint8Array;
  kind: PlacementKind;
}

interface CanvasState {
  width: number;
  height: number;
  seq: number;
  epoch: number;
  /** Painted level-0 tiles by tile name ("tx:ty"); a tile never painted has no entry and costs nothing. */
  tiles: Map<string, StoredTile>;
  /** The most recent batches as published, with their previous colours; their seqs are contiguous and end at `seq`. */
  history: RetainedBatch[];
  saveTimer: NodeJS.Timeout | undefined;
  /** The save in progress, so saves of one canvas never overlap. */
  saving: Promise<void>;
}

/**
 * The embedded canvas store of a single-process run, tile by tile as the Redis store (a sparse map
 * of painted tiles, each with its version). Writes are synchronous on one thread, so each batch is
 * atomic and sequenced; batches are published on the MemoryPixelBus in seq order.
 *
 * Durability: canvases are saved under `dataDir` (atomic temp file + rename), at most
 * PERSIST_INTERVAL_MS after a change and on close (a crash, kill -9 or power loss, can lose the
 * acknowledged writes of that window; a graceful close loses nothing). A file saved while running is marked unclean;
 * loading an unclean file (after a crash) starts a new epoch, because clients may have seen seqs
 * the file lacks. History is in memory only, so after any restart clients resume by snapshot.
 */
export class MemoryCanvasStore implements CanvasStore {
  private readonly canvases = new Map<string, Promise<CanvasState>>();
  private readonly historyLimit: number;
  /** The placement budget keys (what Redis holds under `canvas:{id}:budget:*`); public for inspection in tests. */
  readonly ledger = new BudgetLedger();
  /** Undo allowances (RestoreOptions.limit) by canvas and user: restores so far and when the window ends. */
  private readonly restoreAllowances = new Map<string, { count: number; resetAt: number }>();
  private closed = false;

  constructor(private readonly options: MemoryCanvasStoreOptions) {
    this.historyLimit = options.historyLimit ?? HISTORY_MAX_BATCHES;
  }

  isReady(): boolean {
    return !this.closed;
  }

  async getCanvas(canvasId: string): Promise<CanvasSnapshot> {
    const state = await this.load(canvasId);
    const pixels = assembleTiles(state.width, state.height, [...state.tiles].map(([name, tile]) => [name, tile.pixels] as const), this.shape(canvasId).background);
    return { canvasId, width: state.width, height: state.height, seq: state.seq, epoch: state.epoch, pixels };
  }

  async getTile(canvasId: string, tile: TileCoord): Promise<TileSnapshot> {
    const state = await this.load(canvasId);
    const rect = tileRect(state.width, state.height, 0, tile);
    if (rect === undefined) throw new RangeError(`tile ${tileName(tile)} is outside the ${state.width}x${state.height} canvas`);
    const stored = state.tiles.get(tileName(tile));
    return { width: rect.width, height: rect.height, seq: state.seq, epoch: state.epoch, version: stored?.version ?? 0, pixels: stored?.pixels.slice() };
  }

  async tileVersions(canvasId: string): Promise<TileVersions> {
    const state = await this.load(canvasId);
    return { seq: state.seq, epoch: state.epoch, versions: new Map([...state.tiles].map(([name, tile]) => [name, tile.version])) };
  }

  async setPixels(canvasId: string, pixels: readonly PixelLike[], author: string, runs?: readonly PlacementRun[]): Promise<StoredBatch> {
    const state = await this.load(canvasId);
    this.assertOpen();
    const { width, height } = state;
    for (const p of pixels) {
      if (p.x >= width || p.y >= height) throw new RangeError(`pixel (${p.x}, ${p.y}) is outside the ${width}x${height} canvas`);
    }
    const { background } = this.shape(canvasId);
    const budget = canvasBudget(this.options.budgets, canvasId);
    // Same key names as on Redis, so the ledger reads like a Redis keyspace in a debugger.
    const resolved = resolveRuns(pixels, runs, budget, canvasKeys(canvasId).budget);
    // From here to publish nothing awaits, so no other batch can interleave.
    const decided = budget !== undefined && resolved.budgeted !== undefined ? this.ledger.decide(budget, resolved.budgeted) : undefined;
    const retryAfterMs = decided ?? new Array<number>(resolved.runCount).fill(0);
    const stored = decided === undefined ? resolved.pixels : resolved.pixels.filter((_, i) => decided[i] === 0);
    if (stored.length === 0) return { seq: state.seq, epoch: state.epoch, retryAfterMs };
    state.seq += 1;
    const previousColors = Buffer.alloc(stored.reduce((n, slice) => n + slice.length, 0) * 3);
    let written = 0;
    for (const slice of stored) {
      for (const p of slice) {
        const tx = Math.floor(p.x / TILE_SIZE);
        const ty = Math.floor(p.y / TILE_SIZE);
        const name = tileName({ tx, ty });
        let tile = state.tiles.get(name);
        if (!tile) {
          const rect = tileRect(width, height, 0, { tx, ty })!;
          tile = { version: state.seq, pixels: backgroundTile(rect.width, rect.height, background) };
          state.tiles.set(name, tile);
        }
        tile.version = state.seq;
        const o = ((p.y - ty * TILE_SIZE) * Math.min(TILE_SIZE, width - tx * TILE_SIZE) + p.x - tx * TILE_SIZE) * 3;
        previousColors.set(tile.pixels.subarray(o, o + 3), written * 3);
        written += 1;
        tile.pixels[o] = (p.color >>> 16) & 0xff;
        tile.pixels[o + 1] = (p.color >>> 8) & 0xff;
        tile.pixels[o + 2] = p.color & 0xff;
      }
    }
    const storedAuthors = decided === undefined ? resolved.authors : resolved.authors.filter((_, i) => decided[i] === 0);
    const live = prefixSeqEpoch(Buffer.concat([encodeBatchHead(canvasId), ...stored.map(encodePixels), encodeBatchTail(author, Date.now())]), state.seq, state.epoch);
    this.remember(state, { payload: Buffer.concat([live, ...storedAuthors]), previousColors, kind: "place" });
    this.options.bus.publish(canvasId, live);
    this.scheduleSave(canvasId, state);
    return { seq: state.seq, epoch: state.epoch, retryAfterMs };
  }

  async restore(canvasId: string, writes: readonly RestoreWrite[], options: RestoreOptions): Promise<RestoredBatch> {
    const state = await this.load(canvasId);
    this.assertOpen();
    checkRestoreWrites(writes, state.width, state.height);
    // From here to publish nothing awaits, so the check and the write are one atomic step.
    const now = Date.now();
    const limitKey = options.limit === undefined ? undefined : `${canvasId}\n${options.limit.userId}`;
    const used = limitKey === undefined ? undefined : this.restoreAllowance(limitKey, now);
    if (options.limit !== undefined && used !== undefined && used.count >= options.limit.perWindow) {
      return { seq: state.seq, epoch: state.epoch, restored: 0, skipped: 0, retryAfterMs: Math.max(1, used.resetAt - now) };
    }
    const { background = DEFAULT_BACKGROUND } = this.shape(canvasId);
    const applied = writes.filter((w) => this.colorAt(state, w.x, w.y, background) === w.expected);
    const skipped = writes.length - applied.length;
    if (applied.length === 0) return { seq: state.seq, epoch: state.epoch, restored: 0, skipped, retryAfterMs: 0 };
    state.seq += 1;
    const previousColors = Buffer.alloc(applied.length * 3);
    applied.forEach((w, i) => {
      previousColors.writeUIntBE(w.expected, i * 3, 3);
      this.paint(state, w.x, w.y, w.color, background);
    });
    const authors = options.by === undefined ? [] : [encodeAuthor({ ...options.by, pixelCount: applied.length })];
    const live = prefixSeqEpoch(Buffer.concat([encodeBatchHead(canvasId), encodePixels(applied), encodeBatchTail(options.author, now)]), state.seq, state.epoch);
    this.remember(state, { payload: Buffer.concat([live, ...authors]), previousColors, kind: options.kind });
    if (limitKey !== undefined && options.limit !== undefined) {
      const current = used ?? { count: 0, resetAt: now + options.limit.windowMs };
      this.restoreAllowances.set(limitKey, { count: current.count + 1, resetAt: current.resetAt });
    }
    this.options.bus.publish(canvasId, live);
    this.scheduleSave(canvasId, state);
    return { seq: state.seq, epoch: state.epoch, restored: applied.length, skipped, retryAfterMs: 0 };
  }

  /** The restore allowance in force for a key (canvas and user), dropping expired ones so the map stays bounded by recent users. */
  private restoreAllowance(key: string, now: number): { count: number; resetAt: number } | undefined {
    for (const [k, v] of this.restoreAllowances) if (v.resetAt <= now) this.restoreAllowances.delete(k);
    return this.restoreAllowances.get(key);
  }

  /** The colour of one pixel now (the background when its tile was never painted). */
  private colorAt(state: CanvasState, x: number, y: number, background: number): number {
    const tile = state.tiles.get(tileName({ tx: Math.floor(x / TILE_SIZE), ty: Math.floor(y / TILE_SIZE) }));
    if (tile === undefined) return background;
    const o = this.offsetInTile(state, x, y);
    return (tile.pixels[o]! << 16) | (tile.pixels[o + 1]! << 8) | tile.pixels[o + 2]!;
  }

  /** Paints one pixel, creating its tile (filled with the background) on its first paint, and stamps the tile with the current seq. */
  private paint(state: CanvasState, x: number, y: number, color: number, background: number): void {
    const tx = Math.floor(x / TILE_SIZE);
    const ty = Math.floor(y / TILE_SIZE);
    const name = tileName({ tx, ty });
    let tile = state.tiles.get(name);
    if (!tile) {
      const rect = tileRect(state.width, state.height, 0, { tx, ty })!;
      tile = { version: state.seq, pixels: backgroundTile(rect.width, rect.height, background) };
      state.tiles.set(name, tile);
    }
    tile.version = state.seq;
    const o = this.offsetInTile(state, x, y);
    tile.pixels[o] = (color >>> 16) & 0xff;
    tile.pixels[o + 1] = (color >>> 8) & 0xff;
    tile.pixels[o + 2] = color & 0xff;
  }

  private offsetInTile(state: CanvasState, x: number, y: number): number {
    const tx = Math.floor(x / TILE_SIZE);
    const ty = Math.floor(y / TILE_SIZE);
    return ((y - ty * TILE_SIZE) * Math.min(TILE_SIZE, state.width - tx * TILE_SIZE) + x - tx * TILE_SIZE) * 3;
  }

  async history(canvasId: string, afterSeq: number, limit: number): Promise<Uint8Array[] | undefined> {
    const state = await this.load(canvasId);
    const firstSeq = state.history.length === 0 ? undefined : state.seq - state.history.length + 1;
    const window = historyWindow(afterSeq, state.seq, firstSeq);
    if (window === "none") return [];
    if (window === "snapshot") return undefined;
    const start = afterSeq + 1 - firstSeq!;
    return state.history.slice(start, start + limit).map((b) => b.payload);
  }

  /**
   * The archiver's view of the retained history (HistorySource.read): entries after afterSeq with
   * their previous colours. A canvas not loaded in this process reads as epoch 0, seq 0, nothing retained.
   */
  async retainedHistory(canvasId: string, afterSeq: number, limit: number): Promise<HistorySlice> {
    const pending = this.canvases.get(canvasId);
    const state = pending === undefined ? undefined : await pending.catch(() => undefined);
    if (state === undefined) return { epoch: 0, seq: 0, firstRetainedSeq: undefined, entries: [] };
    const firstRetainedSeq = state.history.length === 0 ? undefined : state.seq - state.history.length + 1;
    const from = firstRetainedSeq === undefined ? 0 : Math.max(0, afterSeq + 1 - firstRetainedSeq);
    const entries = state.history.slice(from, from + limit).map((b, i) => ({
      seq: firstRetainedSeq! + from + i,
      epoch: state.epoch,
      batch: b.payload,
      previousColors: b.previousColors,
      kind: b.kind,
    }));
    return { epoch: state.epoch, seq: state.seq, firstRetainedSeq, entries };
  }

  /** The canvases loaded in this process: the only ones with retained history. */
  loadedCanvasIds(): string[] {
    return [...this.canvases.keys()];
  }

  async reset(canvasId: string): Promise<{ epoch: number }> {
    const state = await this.load(canvasId, true);
    this.assertOpen();
    ({ width: state.width, height: state.height } = this.shape(canvasId));
    state.tiles = new Map();
    state.seq = 0;
    state.epoch = nextEpoch(state.epoch);
    state.history = [];
    this.publishEpochMarker(canvasId, state);
    this.scheduleSave(canvasId, state);
    return { epoch: state.epoch };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const saves: Promise<void>[] = [];
    for (const [canvasId, pending] of this.canvases) {
      saves.push(
        pending.then(
          (state) => {
            clearTimeout(state.saveTimer);
            state.saveTimer = undefined;
            // Rewrite even an unchanged canvas: only a close may mark the file clean.
            return this.save(canvasId, state, true);
          },
          () => undefined,
        ),
      );
    }
    await Promise.all(saves);
  }

  async currentSeq(canvasId: string): Promise<number> {
    return (await this.load(canvasId, true)).seq;
  }

  /** The canvas's registered size, or the configured one. */
  private shape(canvasId: string): CanvasShape {
    return this.options.shapeOf?.(canvasId) ?? { width: this.options.width, height: this.options.height };
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError("the canvas store is closed");
  }

  private remember(state: CanvasState, batch: RetainedBatch): void {
    state.history.push(batch);
    const excess = historyExcess(state.history.length, this.historyLimit);
    if (excess > 0) state.history.splice(0, excess);
  }

  private publishEpochMarker(canvasId: string, state: CanvasState): void {
    this.options.bus.publish(canvasId, prefixSeqEpoch(encodeBatchBody(canvasId, [], "", Date.now()), state.seq, state.epoch));
  }

  /** Loads a canvas once (from its file, or empty: all background); later calls share the same state. */
  private load(canvasId: string, allowResize = false): Promise<CanvasState> {
    this.assertOpen();
    let pending = this.canvases.get(canvasId);
    if (!pending) {
      pending = this.loadFromDisk(canvasId);
      this.canvases.set(canvasId, pending);
      // A failed load (unreadable file) is retried on the next call rather than cached.
      pending.catch(() => this.canvases.delete(canvasId));
    }
    return pending.then((state) => {
      const shape = this.shape(canvasId);
      if (!allowResize && (state.width !== shape.width || state.height !== shape.height)) {
        throw new CanvasSizeMismatchError(`the stored canvas is ${state.width}x${state.height}; reset the canvas to resize it`);
      }
      return state;
    });
  }

  private async loadFromDisk(canvasId: string): Promise<CanvasState> {
    const { dataDir, logger } = this.options;
    const { width, height } = this.shape(canvasId);
    const saved = dataDir === undefined ? undefined : await readCanvasFile(canvasFilePath(dataDir, canvasId));
    const base = { history: [], saveTimer: undefined, saving: Promise.resolve() };
    if (!saved) return { ...base, width, height, seq: 0, epoch: nextEpoch(), tiles: new Map() };
    const epoch = saved.clean ? saved.epoch : nextEpoch(saved.epoch);
    if (!saved.clean) logger.warn({ canvasId, seq: saved.seq }, "canvas file was not saved by a clean shutdown; started a new epoch");
    if (saved.migratedFrom !== undefined) {
      logger.info({ canvasId, from: saved.migratedFrom, tiles: saved.tiles.size }, "canvas file is in an older format; cut it into tiles (saved in the new format on the next save)");
    }
    return { ...base, width: saved.width, height: saved.height, seq: saved.seq, epoch, tiles: saved.tiles };
  }

  private scheduleSave(canvasId: string, state: CanvasState): void {
    if (this.options.dataDir === undefined || state.saveTimer) return;
    state.saveTimer = setTimeout(() => {
      state.saveTimer = undefined;
      void this.save(canvasId, state, false);
    }, PERSIST_INTERVAL_MS);
  }

  private save(canvasId: string, state: CanvasState, clean: boolean): Promise<void> {
    const { dataDir, logger } = this.options;
    if (dataDir === undefined) return Promise.resolve();
    // Copy now: the write is asynchronous and later batches must not tear the saved image.
    const tiles = new Map([...state.tiles].map(([name, tile]) => [name, { version: tile.version, pixels: tile.pixels.slice() }]));
    const data = { width: state.width, height: state.height, seq: state.seq, epoch: state.epoch, clean, tiles };
    state.saving = state.saving.then(() =>
      writeCanvasFile(canvasFilePath(dataDir, canvasId), data).catch((err: Error) => {
        logger.error({ canvasId, err: err.message }, "saving the canvas failed; will retry on the next write");
      }),
    );
    return state.saving;
  }
}
