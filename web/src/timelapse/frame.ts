import type { Rect } from "../protocol/rect.js";
import type { Timeline } from "./timeline.js";

/** Memory the keyframes of one timelapse may take; fewer, further apart keyframes on big canvases. */
export const KEYFRAME_BUDGET_BYTES = 128 * 1024 * 1024;
/** Placements between keyframes at least: below this a keyframe saves less than it costs to keep. */
export const MIN_KEYFRAME_INTERVAL = 50_000;
/** Side of the square tiles in which changed pixels are tracked and uploaded to the bitmap. */
export const DIRTY_TILE = 64;
/** Canvas pixels a keyframe copy moves for the cost of one replayed placement (a copy is a memcpy; a placement a scattered write). */
const COPY_PIXELS_PER_STEP = 8;

/**
 * The canvas at one position of a timeline (how many placements are applied), as RGBA pixels
 * an ImageData can wrap, with keyframes so any position is reached by at most one copy and one
 * keyframe interval of replay. Positions move only by applying or reverting placements, and the
 * tiles they touched are remembered, so a frame uploads just the tiles that changed.
 */
export class TimelapseFrame {
  /** The canvas, one 0xAABBGGRR pixel per canvas pixel. */
  readonly pixels: Uint32Array<ArrayBuffer>;
  /** Placements applied. */
  position = 0;
  /** Placements between keyframes. */
  readonly interval: number;
  private readonly keyframes: Uint32Array[] = [];
  private readonly tilesX: number;
  private readonly tilesY: number;
  private readonly dirty: Uint8Array;
  private dirtyCount = 0;

  constructor(private readonly timeline: Timeline) {
    const { width, height, count } = timeline;
    this.pixels = new Uint32Array(width * height).fill(timeline.background);
    const perKeyframe = width * height * 4;
    const kept = Math.max(1, Math.floor(KEYFRAME_BUDGET_BYTES / perKeyframe));
    this.interval = Math.max(MIN_KEYFRAME_INTERVAL, Math.ceil(count / kept));
    this.tilesX = Math.ceil(width / DIRTY_TILE);
    this.tilesY = Math.ceil(height / DIRTY_TILE);
    this.dirty = new Uint8Array(this.tilesX * this.tilesY);
    // One pass over the whole timeline, keeping a copy every `interval` placements (the first is the empty canvas).
    for (let k = 0; k * this.interval <= count; k++) {
      this.forward(k * this.interval, false);
      this.keyframes.push(this.pixels.slice());
    }
    this.pixels.set(this.keyframes[0]!);
    this.position = 0;
    this.markAll();
  }

  /** Moves to `target` placements by the cheapest way: replay forwards, revert backwards, or a keyframe and replay. */
  seek(target: number): void {
    const t = Math.max(0, Math.min(this.timeline.count, Math.floor(target)));
    if (t === this.position) return;
    const k = Math.floor(t / this.interval);
    const keyframeCost = (this.pixels.length / COPY_PIXELS_PER_STEP) + (t - k * this.interval);
    const directCost = t > this.position ? t - this.position : this.timeline.complete ? this.position - t : Infinity;
    if (directCost <= keyframeCost) {
      if (t > this.position) this.forward(t, true);
      else this.backward(t);
      return;
    }
    // What differs between now and the keyframe is what was placed between them.
    const from = k * this.interval;
    this.markPlacements(Math.min(from, this.position), Math.max(from, this.position));
    this.pixels.set(this.keyframes[k]!);
    this.position = from;
    this.forward(t, true);
  }

  /**
   * Calls `put` for the changed tiles inside `visible` (one rect when most of them changed) and
   * forgets them; changed tiles off screen wait until they are on screen. Returns the pixels put.
   */
  flush(visible: Rect, put: (r: Rect) => void): number {
    if (this.dirtyCount === 0 || visible.width <= 0 || visible.height <= 0) return 0;
    const tx0 = Math.floor(visible.x / DIRTY_TILE);
    const ty0 = Math.floor(visible.y / DIRTY_TILE);
    const tx1 = Math.min(this.tilesX, Math.ceil((visible.x + visible.width) / DIRTY_TILE));
    const ty1 = Math.min(this.tilesY, Math.ceil((visible.y + visible.height) / DIRTY_TILE));
    let changed = 0;
    for (let ty = ty0; ty < ty1; ty++) for (let tx = tx0; tx < tx1; tx++) changed += this.dirty[ty * this.tilesX + tx]!;
    if (changed === 0) return 0;
    let pixels = 0;
    const whole = changed * 2 > (tx1 - tx0) * (ty1 - ty0);
    for (let ty = ty0; ty < ty1; ty++) {
      for (let tx = tx0; tx < tx1; tx++) {
        const i = ty * this.tilesX + tx;
        if (!this.dirty[i]) continue;
        this.dirty[i] = 0;
        this.dirtyCount--;
        if (!whole) pixels += this.putTile(tx, ty, put);
      }
    }
    if (whole) {
      const r = this.tileRect(tx0, ty0, tx1 - tx0, ty1 - ty0);
      put(r);
      pixels = r.width * r.height;
    }
    return pixels;
  }

  /** Marks every tile changed (a new bitmap needs everything). */
  markAll(): void {
    this.dirty.fill(1);
    this.dirtyCount = this.dirty.length;
  }

  private forward(target: number, track: boolean): void {
    const { index, color } = this.timeline;
    const pixels = this.pixels;
    for (let i = this.position; i < target; i++) pixels[index[i]!] = color[i]!;
    if (track) this.markPlacements(this.position, target);
    this.position = target;
  }

  private backward(target: number): void {
    const { index, previous } = this.timeline;
    const pixels = this.pixels;
    for (let i = this.position - 1; i >= target; i--) pixels[index[i]!] = previous[i]!;
    this.markPlacements(target, this.position);
    this.position = target;
  }

  /** Marks the tiles of placements [from, to) changed (all of them when that is cheaper). */
  private markPlacements(from: number, to: number): void {
    if (this.dirtyCount === this.dirty.length) return;
    if (to - from > this.dirty.length * 4) {
      this.markAll();
      return;
    }
    const { index, width } = this.timeline;
    for (let i = from; i < to; i++) {
      const p = index[i]!;
      const x = p % width;
      const t = ((p - x) / width / DIRTY_TILE | 0) * this.tilesX + ((x / DIRTY_TILE) | 0);
      if (!this.dirty[t]) {
        this.dirty[t] = 1;
        this.dirtyCount++;
      }
    }
  }

  private putTile(tx: number, ty: number, put: (r: Rect) => void): number {
    const r = this.tileRect(tx, ty, 1, 1);
    put(r);
    return r.width * r.height;
  }

  private tileRect(tx: number, ty: number, w: number, h: number): Rect {
    const x = tx * DIRTY_TILE;
    const y = ty * DIRTY_TILE;
    return { x, y, width: Math.min(this.timeline.width, (tx + w) * DIRTY_TILE) - x, height: Math.min(this.timeline.height, (ty + h) * DIRTY_TILE) - y };
  }
}
