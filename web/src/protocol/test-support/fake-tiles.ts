import { tileRect, type TileCoord } from "../../../../protocol/tile-grid.js";
import type { TileRead, TileReader } from "../tile-copies.js";

/**
 * The canvas service's tile route for client tests: a whole canvas at (seq, epoch) that reads
 * cut into tiles. With `hold` set, reads wait until the test calls release().
 */
export class FakeTiles {
  /** Every read asked for, in order. */
  readonly reads: Array<{ tile: TileCoord; minSeq: bigint }> = [];
  rgb: Uint8Array;
  seq = 0n;
  epoch = 1n;
  hold = false;
  failing = false;
  private readonly held: Array<() => void> = [];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3);
  }

  /** Paints one pixel of the stored canvas. */
  paint(x: number, y: number, color: number): void {
    this.rgb.set([(color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff], (y * this.width + x) * 3);
  }

  /** Lets every held read answer, with the canvas as it is now. */
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  readonly reader: TileReader = (tile, minSeq) => {
    this.reads.push({ tile, minSeq });
    const answer = (): Promise<TileRead> => (this.failing ? Promise.reject(new Error("tile route down")) : Promise.resolve(this.cut(tile)));
    if (!this.hold) return answer();
    return new Promise((resolve, reject) => this.held.push(() => answer().then(resolve, reject)));
  };

  private cut(tile: TileCoord): TileRead {
    const r = tileRect(this.width, this.height, 0, tile)!;
    const rgb = new Uint8Array(r.width * r.height * 3);
    for (let row = 0; row < r.height; row++) rgb.set(this.rgb.subarray(((r.y + row) * this.width + r.x) * 3, ((r.y + row) * this.width + r.x + r.width) * 3), row * r.width * 3);
    return { seq: this.seq, epoch: this.epoch, rgb };
  }
}

/** Lets pending promise callbacks (tile reads) run. */
export async function settleReads(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
