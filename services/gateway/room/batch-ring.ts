import { columnsBatchFrame } from "../../../protocol/server-frames.js";

/**
 * One recent batch: its `ServerFrame{batch}` frame and the level-0 tiles it touches (keys as
 * protocol/tile-watch.ts). The frame for sockets of pixel protocol 4 (pixels in PixelBatch.columns)
 * is made from it the first time one needs it, once per batch whatever the number of such sockets;
 * it is never longer than the frame plus a few bytes, so the ring's byte bound counts `frame` only.
 */
export class RingEntry {
  private columns: Buffer | undefined;

  constructor(
    readonly frame: Buffer,
    readonly tiles: readonly number[],
  ) {}

  /** The frame in the form a member reads: PixelBatch.columns when `columns`, else PixelBatch.pixels. */
  frameFor(columns: boolean): Buffer {
    if (!columns) return this.frame;
    return (this.columns ??= columnsBatchFrame(this.frame));
  }
}

/**
 * The recent framed batches of one room, contiguous in seq, bounded by count and by
 * bytes. A reconnecting client whose Watch.after_seq is still covered gets exactly the
 * batches after it that touch its tiles instead of reading every tile again.
 */
export class BatchRing {
  private frames: RingEntry[] = [];
  private head = 0;
  private bytes = 0;
  /** Seq of frames[head]; meaningful only while the ring is not empty. */
  private firstSeq = 0n;

  constructor(
    private readonly maxBatches: number,
    private readonly maxBytes: number,
  ) {}

  /** Number of frames held. */
  get size(): number {
    return this.frames.length - this.head;
  }

  /** Appends the frame of batch `seq`, which must follow the last one; evicts the oldest over the bounds. */
  push(seq: bigint, entry: RingEntry): void {
    if (this.size > 0 && seq !== this.firstSeq + BigInt(this.size)) {
      throw new Error(`ring expects seq ${this.firstSeq + BigInt(this.size)}, got ${seq}`);
    }
    if (this.size === 0) this.firstSeq = seq;
    this.frames.push(entry);
    this.bytes += entry.frame.length;
    while (this.size > 1 && (this.size > this.maxBatches || this.bytes > this.maxBytes)) {
      this.bytes -= this.frames[this.head]!.frame.length;
      this.frames[this.head] = EMPTY;
      this.head++;
      this.firstSeq++;
    }
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Puts older frames before the ones held, the first of them being batch `firstSeq`, when they end
   * right before the ring's first frame: the ring holds (currentSeq - size, currentSeq], so they must
   * end at currentSeq - size. Evicts the oldest over the bounds as push does. Returns false (and
   * changes nothing) when they do not chain, so the ring stays contiguous.
   */
  prepend(firstSeq: bigint, entries: readonly RingEntry[], currentSeq: bigint): boolean {
    if (entries.length === 0 || firstSeq + BigInt(entries.length) !== currentSeq - BigInt(this.size) + 1n) return false;
    const held = this.frames.slice(this.head);
    this.frames = [...entries, ...held];
    this.head = 0;
    this.firstSeq = firstSeq;
    this.bytes = this.frames.reduce((sum, e) => sum + e.frame.length, 0);
    while (this.size > 1 && (this.size > this.maxBatches || this.bytes > this.maxBytes)) {
      this.bytes -= this.frames[this.head]!.frame.length;
      this.head++;
      this.firstSeq++;
    }
    this.frames = this.frames.slice(this.head);
    this.head = 0;
    return true;
  }

  /** Forgets everything (after a resync the history before the snapshot no longer chains). */
  clear(): void {
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
  }

  /**
   * The frames with seq in (afterSeq, currentSeq], or undefined when some of them were
   * evicted. `currentSeq` is the room's seq, which the last frame (if any) carries.
   */
  since(afterSeq: bigint, currentSeq: bigint): RingEntry[] | undefined {
    if (afterSeq === currentSeq) return [];
    if (afterSeq > currentSeq || this.size === 0 || afterSeq < this.firstSeq - 1n) return undefined;
    const start = this.head + Number(afterSeq - this.firstSeq + 1n);
    return this.frames.slice(start);
  }
}

const EMPTY = new RingEntry(Buffer.alloc(0), []);
