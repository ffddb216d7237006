import type { PixelLike } from "../../../protocol/pixel-validation.js";
import type { TileCoord } from "../../../protocol/tile-grid.js";
import type { Clock } from "./clock.js";
import { DirtyRegion, type Rect } from "./rect.js";
import { TileCopies, type TileBatch, type TileReader } from "./tile-copies.js";

/** The fields of a batch the canvas needs; a generated PixelBatch fits. */
export type BatchLike = TileBatch;

/** What the canvas needs of a Welcome (protocol 2: where the stream starts, no pixels). */
export interface WelcomeLike {
  width: number;
  height: number;
  seq: bigint;
  epoch: bigint;
}

/** What applying a batch did. */
export type ApplyResult =
  | { kind: "applied"; dirty: Rect | undefined }
  /** Not after the stream's position in its epoch, or of an older epoch: already seen, ignored. */
  | { kind: "duplicate" };

/** One optimistic placement shown on top of the canonical canvas until it is confirmed or refused. */
interface PendingPlacement {
  pixels: readonly PixelLike[];
  /** Set by the Ack: the placement stays visible until the stream reaches this seq. */
  ackedSeq: bigint | undefined;
}

/** The colour shown where no tile is loaded yet: a light grey, unlike the white of an unpainted canvas. */
export const UNLOADED_COLOR = 0xe8e8e8;

/**
 * The client's canvas: copies of the watched tiles, each exact at its own seq (TileCopies), the
 * stream position (`seq`: the newest Welcome, Watching or batch of this epoch), plus an
 * optimistic overlay of the user's own placements keyed by client_seq. What the user sees is the
 * overlay (latest placement wins) on top of the loaded tiles.
 */
export class CanvasState {
  /** Width in pixels; 0 before the first Welcome. */
  width = 0;
  /** Height in pixels; 0 before the first Welcome. */
  height = 0;
  /** The newest seq of the watch stream in this epoch. */
  seq = 0n;
  /** The epoch the seq belongs to. */
  epoch = 0n;
  /** True once a Welcome was accepted. */
  loaded = false;
  /** The watched tiles. */
  readonly tiles: TileCopies;
  private readonly pending = new Map<number, PendingPlacement>();
  /** Pixel index -> colour of the newest pending placement covering it. */
  private overlay = new Map<number, number>();

  constructor(reader: TileReader, clock: Clock, tileLoaded: (rect: Rect) => void) {
    this.tiles = new TileCopies(reader, clock, tileLoaded);
  }

  /**
   * Starts the stream of a new socket at its Welcome. Returns whether the kept tiles may continue
   * (same canvas size and epoch; the Watch then asks for a replay from `seq`); otherwise they were
   * dropped, with the placements of the old history, and the stream starts at the Welcome's seq.
   */
  welcome(welcome: WelcomeLike): boolean {
    const resized = welcome.width !== this.width || welcome.height !== this.height;
    const epochChanged = this.loaded && welcome.epoch !== this.epoch;
    this.width = welcome.width;
    this.height = welcome.height;
    if (resized || epochChanged) {
      this.tiles.resize(welcome.width, welcome.height);
      // Earlier acks refer to a history that no longer exists.
      this.pending.clear();
      this.overlay.clear();
      this.seq = welcome.seq;
    }
    this.epoch = welcome.epoch;
    this.loaded = true;
    return !(resized || epochChanged);
  }

  /**
   * The gateway restarted this socket's stream at `seq` (a Welcome on a joined socket: its room
   * re-read the canvas head, or the socket had fallen behind): every kept tile is read again.
   */
  restart(seq: bigint): void {
    this.seq = seq;
    this.tiles.reloadAll({ seq, epoch: this.epoch });
  }

  /** The watch set took effect at Watching (seq, epoch): keep, drop and read tiles accordingly. */
  watching(tiles: readonly TileCoord[], seq: bigint, epoch: bigint): void {
    if (epoch === this.epoch && seq > this.seq) this.seq = seq;
    this.tiles.watch(tiles, { seq, epoch });
  }

  /** Applies one batch of the watch stream to the tiles it touches; see ApplyResult. */
  applyBatch(batch: BatchLike): ApplyResult {
    if (batch.epoch < this.epoch || (batch.epoch === this.epoch && batch.seq <= this.seq)) return { kind: "duplicate" };
    // A newer epoch: its tiles are read again (TileCopies); the gateway's fresh Welcome follows.
    if (batch.epoch === this.epoch) this.seq = batch.seq;
    const dirty = new DirtyRegion();
    const changed = this.tiles.applyBatch(batch);
    if (changed) {
      dirty.add(changed.x, changed.y);
      dirty.add(changed.x + changed.width - 1, changed.y + changed.height - 1);
    }
    const settled = this.settleAcked();
    if (settled) {
      this.rebuildOverlay();
      for (const p of settled) dirty.add(p.x, p.y);
    }
    return { kind: "applied", dirty: dirty.rect() };
  }

  /** Shows a placement optimistically; returns the region that changed. */
  addPending(clientSeq: number, pixels: readonly PixelLike[]): Rect | undefined {
    this.pending.set(clientSeq, { pixels, ackedSeq: undefined });
    const dirty = new DirtyRegion();
    for (const p of pixels) {
      this.overlay.set(p.y * this.width + p.x, p.color);
      dirty.add(p.x, p.y);
    }
    return dirty.rect();
  }

  /**
   * Records that a placement is stored in batch `seq`. It stays on top until the stream reaches
   * that seq, so the pixel never flickers back to the old colour in between.
   * Returns the region that changed, if the placement was settled at once.
   */
  ack(clientSeq: number, seq: bigint): Rect | undefined {
    const placement = this.pending.get(clientSeq);
    if (!placement) return undefined;
    placement.ackedSeq = seq;
    if (seq > this.seq) return undefined;
    return this.removePending(clientSeq);
  }

  /** Rolls a placement back (refused, failed, or unconfirmed); returns the region that changed. */
  rollback(clientSeq: number): Rect | undefined {
    return this.removePending(clientSeq);
  }

  /** Rolls back every placement not yet acknowledged; returns their client_seqs and pixel counts. */
  rollbackUnacknowledged(): Array<{ clientSeq: number; pixels: number }> {
    const dropped: Array<{ clientSeq: number; pixels: number }> = [];
    for (const [clientSeq, placement] of this.pending) {
      if (placement.ackedSeq === undefined) dropped.push({ clientSeq, pixels: placement.pixels.length });
    }
    for (const d of dropped) this.pending.delete(d.clientSeq);
    if (dropped.length > 0) this.rebuildOverlay();
    return dropped;
  }

  /** How many placements are shown optimistically. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether placement `clientSeq` is still shown optimistically. */
  isPending(clientSeq: number): boolean {
    return this.pending.has(clientSeq);
  }

  /** The colour the user sees at (x, y): the newest pending placement there, else the stored colour. */
  colorAt(x: number, y: number): number {
    const over = this.overlay.get(y * this.width + x);
    return over ?? this.canonicalColorAt(x, y);
  }

  /** The stored colour at (x, y), ignoring optimistic placements; UNLOADED_COLOR where no tile is loaded. */
  canonicalColorAt(x: number, y: number): number {
    return this.tiles.colorAt(x, y) ?? UNLOADED_COLOR;
  }

  /** The whole canvas as row-major RGB from the loaded tiles (zeros elsewhere), for comparing copies of small canvases. */
  canonicalRgb(): Uint8Array {
    const out = new Uint8Array(this.width * this.height * 3);
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const c = this.tiles.colorAt(x, y);
        if (c === undefined) continue;
        const i = (y * this.width + x) * 3;
        out[i] = c >> 16;
        out[i + 1] = (c >> 8) & 0xff;
        out[i + 2] = c & 0xff;
      }
    }
    return out;
  }

  private removePending(clientSeq: number): Rect | undefined {
    const placement = this.pending.get(clientSeq);
    if (!placement) return undefined;
    this.pending.delete(clientSeq);
    this.rebuildOverlay();
    const dirty = new DirtyRegion();
    for (const p of placement.pixels) dirty.add(p.x, p.y);
    return dirty.rect();
  }

  /** Drops acknowledged placements the stream has caught up with; returns their pixels. */
  private settleAcked(): PixelLike[] | undefined {
    let settled: PixelLike[] | undefined;
    for (const [clientSeq, placement] of this.pending) {
      if (placement.ackedSeq !== undefined && placement.ackedSeq <= this.seq) {
        this.pending.delete(clientSeq);
        (settled ??= []).push(...placement.pixels);
      }
    }
    return settled;
  }

  private rebuildOverlay(): void {
    // Map iteration follows insertion order, so later placements overwrite earlier ones.
    const overlay = new Map<number, number>();
    for (const placement of this.pending.values()) {
      for (const p of placement.pixels) overlay.set(p.y * this.width + p.x, p.color);
    }
    this.overlay = overlay;
  }
}
