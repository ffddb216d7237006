import type { Px } from "./ws-oracle.js";

/** A pixel of the stored canvas that differs from what the acked valid placements explain. */
export interface PixelMismatch {
  x: number;
  y: number;
  actual: number;
  /** The colours the acked placements allow there (the last seq's, or the initial colour). */
  allowed: number[];
}

/**
 * The canvas expected from the VALID placements the gateway acked, and nothing else: per pixel the
 * colour of the highest acked seq (several when placements of one seq touch it: the gateway merges
 * sockets' Places into one batch in an order the client cannot see), else the initial colour.
 */
export class ExpectedCanvas {
  private readonly seqs: Float64Array;
  private readonly colours: Int32Array;
  /** Extra colours allowed at a pixel whose last seq has several placements. */
  private readonly ties = new Map<number, Set<number>>();
  private highest = -1;

  constructor(readonly width: number, readonly height: number, private readonly initial: Uint8Array) {
    this.seqs = new Float64Array(width * height).fill(-1);
    this.colours = new Int32Array(width * height);
  }

  /** The highest acked seq so far, or -1. */
  get highestAck(): number {
    return this.highest;
  }

  /** Applies one acked placement stored at `seq` (pixels in order: a later pixel at the same place wins). */
  apply(seq: number, pixels: readonly Px[]): void {
    this.highest = Math.max(this.highest, seq);
    const last = new Map<number, number>();
    for (const p of pixels) last.set(p.y * this.width + p.x, p.color);
    for (const [i, color] of last) {
      const known = this.seqs[i] as number;
      if (seq > known) {
        this.seqs[i] = seq;
        this.colours[i] = color;
        this.ties.delete(i);
      } else if (seq === known && this.colours[i] !== color) {
        const set = this.ties.get(i) ?? new Set<number>();
        set.add(color);
        this.ties.set(i, set);
      }
    }
  }

  /** Compares a stored canvas (row-major RGB) and returns every differing pixel. */
  compare(stored: Uint8Array): PixelMismatch[] {
    const out: PixelMismatch[] = [];
    for (let i = 0; i < this.width * this.height; i++) {
      const actual = rgb(stored, i);
      const allowed = (this.seqs[i] as number) < 0 ? [rgb(this.initial, i)] : [this.colours[i] as number, ...(this.ties.get(i) ?? [])];
      if (!allowed.includes(actual)) out.push({ x: i % this.width, y: Math.floor(i / this.width), actual, allowed });
    }
    return out;
  }
}

function rgb(pixels: Uint8Array, i: number): number {
  return ((pixels[i * 3] as number) << 16) | ((pixels[i * 3 + 1] as number) << 8) | (pixels[i * 3 + 2] as number);
}
