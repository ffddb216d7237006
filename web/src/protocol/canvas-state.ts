import { batchContinuity } from "../../../protocol/batch-continuity.js";
import { pixelProblem, type PixelLike } from "../../../protocol/pixel-validation.js";
import { DirtyRegion, type Rect } from "./rect.js";

/** The fields of a batch the canvas needs; a generated PixelBatch fits. */
export interface BatchLike {
  seq: bigint;
  epoch: bigint;
  pixels: readonly PixelLike[];
}

/** The fields of a full snapshot the canvas needs; a generated Welcome fits. */
export interface SnapshotLike {
  width: number;
  height: number;
  seq: bigint;
  epoch: bigint;
  pixels: Uint8Array;
}

/** What applying a batch did. */
export type ApplyResult =
  | { kind: "applied"; dirty: Rect | undefined }
  /** seq <= the current seq: already applied, ignored. */
  | { kind: "duplicate" }
  /** seq > current + 1 or another epoch: the canvas cannot continue and must resync. */
  | { kind: "gap"; expectedSeq: bigint; gotSeq: bigint; epochChanged: boolean };

/** One optimistic placement shown on top of the canonical canvas until it is confirmed or refused. */
interface PendingPlacement {
  pixels: readonly PixelLike[];
  /** Set by the Ack: the placement stays visible until the canonical canvas reaches this seq. */
  ackedSeq: bigint | undefined;
}

/**
 * The client's canvas: the canonical RGB bytes at (seq, epoch), changed only by in-order batches
 * and snapshots, plus an optimistic overlay of the user's own placements keyed by client_seq.
 * What the user sees is the overlay (latest placement wins) on top of the canonical bytes.
 */
export class CanvasState {
  /** Width in pixels; 0 before the first snapshot. */
  width = 0;
  /** Height in pixels; 0 before the first snapshot. */
  height = 0;
  /** The seq the canonical bytes stand at. */
  seq = 0n;
  /** The epoch the seq belongs to. */
  epoch = 0n;
  /** True once a snapshot was loaded. */
  loaded = false;
  /** Canonical row-major RGB, 3 bytes per pixel. */
  pixels = new Uint8Array(0);
  private readonly pending = new Map<number, PendingPlacement>();
  /** Pixel index -> colour of the newest pending placement covering it. */
  private overlay = new Map<number, number>();

  /** Replaces everything with a full snapshot; returns an error message if it is malformed. */
  loadSnapshot(snapshot: SnapshotLike): string | undefined {
    const expected = snapshot.width * snapshot.height * 3;
    if (snapshot.width <= 0 || snapshot.height <= 0) return `snapshot size ${snapshot.width}x${snapshot.height} is empty`;
    if (snapshot.pixels.length !== expected) {
      return `snapshot has ${snapshot.pixels.length} bytes; a ${snapshot.width}x${snapshot.height} canvas needs ${expected}`;
    }
    const resized = snapshot.width !== this.width || snapshot.height !== this.height;
    const epochChanged = this.loaded && snapshot.epoch !== this.epoch;
    this.width = snapshot.width;
    this.height = snapshot.height;
    this.seq = snapshot.seq;
    this.epoch = snapshot.epoch;
    this.pixels = snapshot.pixels.slice();
    this.loaded = true;
    // A new epoch or size means earlier acks refer to a history that no longer exists.
    if (resized || epochChanged) this.pending.clear();
    this.settleAcked();
    this.rebuildOverlay();
    return undefined;
  }

  /** Whether a resumed Welcome at (seq, epoch) can continue this copy without a snapshot. */
  canResume(width: number, height: number, seq: bigint, epoch: bigint): boolean {
    return this.loaded && width === this.width && height === this.height && epoch === this.epoch && seq <= this.seq;
  }

  /** Applies one batch if it is the next in seq order; see ApplyResult. */
  applyBatch(batch: BatchLike): ApplyResult {
    switch (batchContinuity(this, batch)) {
      case "apply":
        break;
      case "duplicate":
        return { kind: "duplicate" };
      case "gap":
        return { kind: "gap", expectedSeq: this.seq + 1n, gotSeq: batch.seq, epochChanged: false };
      case "older-epoch":
      case "newer-epoch":
        return { kind: "gap", expectedSeq: this.seq + 1n, gotSeq: batch.seq, epochChanged: true };
    }
    const dirty = new DirtyRegion();
    for (let index = 0; index < batch.pixels.length; index++) {
      const p = batch.pixels[index]!;
      // A malformed pixel from the server must not wrap onto another row or write out of bounds.
      if (pixelProblem(p, index, this.width, this.height) !== undefined) continue;
      const i = (p.y * this.width + p.x) * 3;
      this.pixels[i] = (p.color >> 16) & 0xff;
      this.pixels[i + 1] = (p.color >> 8) & 0xff;
      this.pixels[i + 2] = p.color & 0xff;
      dirty.add(p.x, p.y);
    }
    this.seq = batch.seq;
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
   * Records that a placement is stored in batch `seq`. It stays on top until the canonical canvas
   * reaches that seq, so the pixel never flickers back to the old colour in between.
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

  /** The colour the user sees at (x, y): the newest pending placement there, else the canonical colour. */
  colorAt(x: number, y: number): number {
    const over = this.overlay.get(y * this.width + x);
    return over ?? this.canonicalColorAt(x, y);
  }

  /** The stored colour at (x, y), ignoring optimistic placements. */
  canonicalColorAt(x: number, y: number): number {
    const i = (y * this.width + x) * 3;
    return ((this.pixels[i] ?? 0) << 16) | ((this.pixels[i + 1] ?? 0) << 8) | (this.pixels[i + 2] ?? 0);
  }

  /** Writes the visible colours of `rect` (default: everything) into an RGBA buffer of width×height×4. */
  renderRgba(target: Uint8Array | Uint8ClampedArray, rect: Rect = { x: 0, y: 0, width: this.width, height: this.height }): void {
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) {
        const index = y * this.width + x;
        const o = index * 4;
        const over = this.overlay.get(index);
        if (over === undefined) {
          const i = index * 3;
          target[o] = this.pixels[i] ?? 0;
          target[o + 1] = this.pixels[i + 1] ?? 0;
          target[o + 2] = this.pixels[i + 2] ?? 0;
        } else {
          target[o] = (over >> 16) & 0xff;
          target[o + 1] = (over >> 8) & 0xff;
          target[o + 2] = over & 0xff;
        }
        target[o + 3] = 255;
      }
    }
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

  /** Drops acknowledged placements the canonical canvas has caught up with; returns their pixels. */
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
