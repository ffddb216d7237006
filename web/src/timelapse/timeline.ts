import type { GetPlacementsResponse } from "../../../gen/pixel/v1/history_pb.js";

/** The largest canvas a timelapse plays (its frame and keyframes live in the page's memory). */
export const TIMELAPSE_MAX_PIXELS = 4096 * 4096;
/** A pause between batches longer than this (canvas time) plays as this long, so 1× never shows minutes of nothing. */
export const TIMELAPSE_MAX_GAP_MS = 10_000;

/** 0xRRGGBB as one little-endian RGBA pixel of an ImageData (0xAABBGGRR), opaque. */
export function rgbToPixel(rgb: number): number {
  return (0xff000000 | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >>> 16) & 0xff)) >>> 0;
}

/** One little-endian RGBA pixel (0xAABBGGRR) back to 0xRRGGBB. */
export function pixelToRgb(pixel: number): number {
  return ((pixel & 0xff) << 16) | (pixel & 0xff00) | ((pixel >>> 16) & 0xff);
}

/**
 * Every archived placement of one canvas epoch, in seq order, packed in typed arrays (12 bytes a
 * placement): what a timelapse replays. Placement i paints pixel `index[i]` (y × width + x) with
 * `color[i]` over `previous[i]`; batch b ends before placement `batchEnd[b]`.
 */
export interface Timeline {
  readonly width: number;
  readonly height: number;
  readonly epoch: bigint;
  /** Colour of a never-painted pixel, as an RGBA pixel. */
  readonly background: number;
  /** Placements (pixels of batches). */
  readonly count: number;
  /** Batches. */
  readonly batches: number;
  readonly index: Uint32Array;
  /** Colours placed, as RGBA pixels. */
  readonly color: Uint32Array;
  /** Colours before, as RGBA pixels. */
  readonly previous: Uint32Array;
  readonly batchSeq: Float64Array;
  readonly batchEnd: Uint32Array;
  /** When each batch was stored, Unix ms. */
  readonly batchTime: Float64Array;
  /** When each batch plays at 1×, ms from the first batch, with long pauses cut to TIMELAPSE_MAX_GAP_MS. */
  readonly batchPlayMs: Float64Array;
  /** True when the log holds the epoch from its first seq without gaps, so previous colours agree with the replay. */
  readonly complete: boolean;
}

/** Placements applied once the first `batches` batches are. */
export function placementsAfter(t: Timeline, batches: number): number {
  return batches <= 0 ? 0 : t.batchEnd[Math.min(batches, t.batches) - 1]!;
}

/** How many batches play by `playMs` (binary search). */
export function batchesBy(t: Timeline, playMs: number): number {
  let lo = 0;
  let hi = t.batches;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t.batchPlayMs[mid]! <= playMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How long the whole timelapse plays at 1×, ms. */
export function durationMs(t: Timeline): number {
  return t.batches === 0 ? 0 : t.batchPlayMs[t.batches - 1]!;
}

/** The number of batches whose seq is at most `seq` (the position "right after seq"). */
export function batchesUpToSeq(t: Timeline, seq: number): number {
  let lo = 0;
  let hi = t.batches;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t.batchSeq[mid]! <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Collects GetPlacements pages into a Timeline, growing its arrays by doubling. */
export class TimelineBuilder {
  private placements = 0;
  private batchCount = 0;
  private index = new Uint32Array(1024);
  private color = new Uint32Array(1024);
  private previous = new Uint32Array(1024);
  private batchSeq = new Float64Array(256);
  private batchEnd = new Uint32Array(256);
  private batchTime = new Float64Array(256);
  private batchPlayMs = new Float64Array(256);
  private gaps = 0;
  readonly width: number;
  readonly height: number;
  readonly epoch: bigint;
  private readonly background: number;
  private readonly firstSeq: bigint;

  /** Starts from the first page, which names the canvas size, epoch and background. */
  constructor(first: GetPlacementsResponse) {
    this.width = first.width;
    this.height = first.height;
    this.epoch = first.epoch;
    this.background = rgbToPixel(first.backgroundColor);
    this.firstSeq = first.firstSeq;
    if (this.width <= 0 || this.height <= 0) throw new Error(`the canvas is ${this.width}×${this.height}`);
    if (this.width * this.height > TIMELAPSE_MAX_PIXELS) throw new Error(`a timelapse plays canvases of at most ${TIMELAPSE_MAX_PIXELS} pixels; this one is ${this.width}×${this.height}`);
  }

  /** Placements collected so far. */
  get size(): number {
    return this.placements;
  }

  /** Appends one page (its batches in seq order, after the previous page's). */
  add(page: GetPlacementsResponse): void {
    this.gaps += page.gaps.length;
    for (const archived of page.batches) {
      const batch = archived.batch;
      if (!batch) continue;
      const n = batch.pixels.length;
      if (archived.previousColors.length !== n * 3) throw new Error(`batch ${batch.seq} has ${n} pixels but ${archived.previousColors.length} bytes of previous colours`);
      this.reserve(this.placements + n, this.batchCount + 1);
      const prev = archived.previousColors;
      for (let i = 0; i < n; i++) {
        const p = batch.pixels[i]!;
        if (p.x >= this.width || p.y >= this.height) throw new Error(`batch ${batch.seq} paints (${p.x}, ${p.y}) outside the ${this.width}×${this.height} canvas`);
        const o = this.placements + i;
        this.index[o] = p.y * this.width + p.x;
        this.color[o] = rgbToPixel(p.color);
        this.previous[o] = rgbToPixel((prev[i * 3]! << 16) | (prev[i * 3 + 1]! << 8) | prev[i * 3 + 2]!);
      }
      this.placements += n;
      const b = this.batchCount++;
      const time = Number(batch.timeUnixMs);
      this.batchSeq[b] = Number(batch.seq);
      this.batchEnd[b] = this.placements;
      this.batchTime[b] = time;
      this.batchPlayMs[b] = b === 0 ? 0 : this.batchPlayMs[b - 1]! + Math.min(TIMELAPSE_MAX_GAP_MS, Math.max(0, time - this.batchTime[b - 1]!));
    }
  }

  /** The timeline of everything added (the builder must not be used afterwards). */
  build(): Timeline {
    const n = this.placements;
    const b = this.batchCount;
    return {
      width: this.width,
      height: this.height,
      epoch: this.epoch,
      background: this.background,
      count: n,
      batches: b,
      index: this.index.subarray(0, n),
      color: this.color.subarray(0, n),
      previous: this.previous.subarray(0, n),
      batchSeq: this.batchSeq.subarray(0, b),
      batchEnd: this.batchEnd.subarray(0, b),
      batchTime: this.batchTime.subarray(0, b),
      batchPlayMs: this.batchPlayMs.subarray(0, b),
      complete: this.gaps === 0 && this.firstSeq <= 1n,
    };
  }

  private reserve(placements: number, batches: number): void {
    if (placements > this.index.length) {
      const size = Math.max(placements, this.index.length * 2);
      this.index = grow(this.index, size);
      this.color = grow(this.color, size);
      this.previous = grow(this.previous, size);
    }
    if (batches > this.batchSeq.length) {
      const size = Math.max(batches, this.batchSeq.length * 2);
      this.batchSeq = grow(this.batchSeq, size);
      this.batchEnd = grow(this.batchEnd, size);
      this.batchTime = grow(this.batchTime, size);
      this.batchPlayMs = grow(this.batchPlayMs, size);
    }
  }
}

function grow<T extends Uint32Array | Float64Array>(a: T, size: number): T {
  const next = new (a.constructor as new (n: number) => T)(size);
  next.set(a);
  return next;
}
