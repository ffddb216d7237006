import type { SeqPosition } from "../../../protocol/batch-continuity.js";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import { tileGridSize, tileRect, TILE_SIZE, type PixelRect, type TileCoord } from "../../../protocol/tile-grid.js";
import { batchesAfterTileRead, tileBatchAction, tileKey, tileReadServesWatch, type TileCopy } from "../../../protocol/tile-watch.js";
import type { Clock } from "./clock.js";
import { DirtyRegion, type Rect } from "./rect.js";
import { TILE_RETRY_BASE_MS, TILE_RETRY_MAX_MS } from "./timing.js";

/** A level-0 tile as read over HTTP: its row-major RGB and the X-Canvas-Seq/X-Canvas-Epoch it is consistent at. */
export interface TileRead {
  seq: bigint;
  epoch: bigint;
  /** width × height × 3 bytes, the tile's size as tileRect gives it. */
  rgb: Uint8Array;
}

/** Reads one level-0 tile, at `minSeq` or later (a cache-busting hint; the copy checks the answer). */
export type TileReader = (tile: TileCoord, minSeq: bigint) => Promise<TileRead>;

/** The fields of a batch the tiles need; a generated PixelBatch fits. */
export interface TileBatch extends SeqPosition {
  pixels: readonly PixelLike[];
}

interface Entry {
  readonly coord: TileCoord;
  readonly rect: PixelRect;
  copy: TileCopy;
  rgb: Uint8Array | undefined;
  /** Batches that touched the tile while it was being read, in seq order. */
  buffered: TileBatch[];
  /** The read must be at least here (the Watching, Welcome or batch that asked for it). */
  minRead: SeqPosition;
  /** Bumped on every (re)read, so a superseded read's answer is dropped. */
  generation: number;
  failures: number;
  retryTimer: unknown;
}

/**
 * The client's copies of the level-0 tiles it watches, each exact on its own: read over HTTP at
 * some seq, then kept current by the batches of the watch stream that are newer than it
 * (protocol/tile-watch.ts). Tiles not watched are not kept, since nothing keeps them current.
 */
export class TileCopies {
  private readonly entries = new Map<number, Entry>();
  private columns = 0;

  constructor(
    private readonly reader: TileReader,
    private readonly clock: Clock,
    /** A tile finished loading: its region changed. */
    private readonly loaded: (rect: Rect) => void,
    public width = 0,
    public height = 0,
  ) {
    this.resize(width, height);
  }

  /** Drops every tile and adopts a (possibly new) canvas size. */
  resize(width: number, height: number): void {
    this.clear();
    this.width = width;
    this.height = height;
    this.columns = tileGridSize(width, height).columns;
  }

  /** Drops every tile. */
  clear(): void {
    for (const entry of this.entries.values()) this.clock.clearTimeout(entry.retryTimer);
    this.entries.clear();
  }

  /** How many tiles are kept (loaded or loading). */
  get size(): number {
    return this.entries.size;
  }

  /** How many kept tiles are loaded. */
  get loadedCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.copy.state === "loaded") n++;
    return n;
  }

  /**
   * The watch set is now `tiles`, in effect from `at` (Watching): tiles outside it are dropped,
   * new ones read at `at` or later; kept ones stay (they got every batch up to `at`).
   */
  watch(tiles: readonly TileCoord[], at: SeqPosition): void {
    const keep = new Set<number>();
    for (const coord of tiles) {
      const rect = tileRect(this.width, this.height, 0, coord);
      if (!rect) continue;
      const key = tileKey(coord, this.columns);
      keep.add(key);
      if (this.entries.has(key)) continue;
      const entry: Entry = { coord, rect, copy: { state: "loading" }, rgb: undefined, buffered: [], minRead: at, generation: 0, failures: 0, retryTimer: undefined };
      this.entries.set(key, entry);
      this.read(entry, at);
    }
    for (const [key, entry] of this.entries) {
      if (keep.has(key)) continue;
      this.clock.clearTimeout(entry.retryTimer);
      this.entries.delete(key);
    }
  }

  /** Reads every kept tile again, at `at` or later (a Welcome that reset the stream, or a resume without replay). */
  reloadAll(at: SeqPosition): void {
    for (const entry of this.entries.values()) {
      entry.buffered = [];
      this.read(entry, at);
    }
  }

  /** Applies one batch of the watch stream to the tiles it touches; returns the region that changed. */
  applyBatch(batch: TileBatch): Rect | undefined {
    const dirty = new DirtyRegion();
    // One decision per tile per batch, made before any pixel changes the tile's seq.
    const decided = new Map<number, "buffer" | "apply" | "skip" | "refetch">();
    for (const p of batch.pixels) {
      if (p.x >= this.width || p.y >= this.height) continue;
      const key = Math.floor(p.y / TILE_SIZE) * this.columns + Math.floor(p.x / TILE_SIZE);
      const entry = this.entries.get(key);
      if (!entry) continue;
      let action = decided.get(key);
      if (action === undefined) {
        action = tileBatchAction(entry.copy, batch);
        decided.set(key, action);
        if (action === "buffer") entry.buffered.push(batch);
        if (action === "refetch") {
          entry.buffered = [batch];
          this.read(entry, batch);
        }
      }
      if (action === "apply") {
        paint(entry, p);
        dirty.add(p.x, p.y);
      }
    }
    for (const [key, action] of decided) {
      const copy = this.entries.get(key)!.copy;
      if (action === "apply" && copy.state === "loaded") copy.seq = batch.seq;
    }
    return dirty.rect();
  }

  /** The stored colour at (x, y), or undefined when its tile is not loaded. */
  colorAt(x: number, y: number): number | undefined {
    const entry = this.entries.get(Math.floor(y / TILE_SIZE) * this.columns + Math.floor(x / TILE_SIZE));
    if (!entry?.rgb || entry.copy.state !== "loaded") return undefined;
    const i = ((y - entry.rect.y) * entry.rect.width + (x - entry.rect.x)) * 3;
    return (entry.rgb[i]! << 16) | (entry.rgb[i + 1]! << 8) | entry.rgb[i + 2]!;
  }

  /** The tiles kept, with their state (for tests and the harness). */
  copies(): Array<{ coord: TileCoord; copy: TileCopy }> {
    return [...this.entries.values()].map((e) => ({ coord: e.coord, copy: e.copy }));
  }

  private read(entry: Entry, at: SeqPosition): void {
    this.clock.clearTimeout(entry.retryTimer);
    entry.copy = { state: "loading" };
    entry.rgb = undefined;
    entry.minRead = at;
    const generation = ++entry.generation;
    const current = () => generation === entry.generation && this.entries.get(tileKey(entry.coord, this.columns)) === entry;
    this.reader(entry.coord, at.seq).then(
      (read) => {
        if (!current()) return;
        if (!tileReadServesWatch(read, entry.minRead) || read.rgb.length !== entry.rect.width * entry.rect.height * 3) return this.retry(entry);
        entry.failures = 0;
        entry.rgb = read.rgb;
        entry.copy = { state: "loaded", seq: read.seq, epoch: read.epoch };
        for (const batch of batchesAfterTileRead(read, entry.buffered)) {
          for (const p of batch.pixels) if (inside(entry.rect, p)) paint(entry, p);
          entry.copy.seq = batch.seq;
        }
        entry.buffered = [];
        this.loaded(entry.rect);
      },
      () => {
        if (current()) this.retry(entry);
      },
    );
  }

  private retry(entry: Entry): void {
    const delay = Math.min(TILE_RETRY_MAX_MS, TILE_RETRY_BASE_MS * 2 ** entry.failures++);
    const generation = entry.generation;
    entry.retryTimer = this.clock.setTimeout(() => {
      // Batches buffered so far stay: the next read is at least as new as this one asked for.
      if (generation === entry.generation && this.entries.get(tileKey(entry.coord, this.columns)) === entry) this.read(entry, entry.minRead);
    }, delay);
  }
}

function inside(rect: PixelRect, p: PixelLike): boolean {
  return p.x >= rect.x && p.y >= rect.y && p.x < rect.x + rect.width && p.y < rect.y + rect.height;
}

function paint(entry: Entry, p: PixelLike): void {
  const rgb = entry.rgb!;
  const i = ((p.y - entry.rect.y) * entry.rect.width + (p.x - entry.rect.x)) * 3;
  rgb[i] = (p.color >> 16) & 0xff;
  rgb[i + 1] = (p.color >> 8) & 0xff;
  rgb[i + 2] = p.color & 0xff;
}
