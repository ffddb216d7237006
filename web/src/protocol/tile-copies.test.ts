import { describe, expect, it } from "vitest";
import { FakeTiles, settleReads } from "./test-support/fake-tiles.js";
import { ManualClock } from "./test-support/manual-clock.js";
import { TileCopies } from "./tile-copies.js";
import { TILE_RETRY_BASE_MS } from "./timing.js";

/** Copies of a 600 x 300 canvas (tiles 0:0..2:1) and the tile route behind them. */
function setup() {
  const route = new FakeTiles(600, 300);
  const clock = new ManualClock();
  const loaded: string[] = [];
  const copies = new TileCopies(route.reader, clock, (r) => loaded.push(`${r.x},${r.y} ${r.width}x${r.height}`), 600, 300);
  return { route, clock, copies, loaded };
}

describe("TileCopies", () => {
  it("keeps only the watched tiles, reports each loaded tile's region, and ignores pixels of other tiles", async () => {
    const { route, copies, loaded } = setup();
    copies.watch([{ tx: 2, ty: 1 }], { seq: 0n, epoch: 1n });
    await settleReads();
    expect(loaded).toEqual(["512,256 88x44"]);
    expect(copies.applyBatch({ seq: 1n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 5 }, { x: 599, y: 299, color: 6 }] })).toEqual({ x: 599, y: 299, width: 1, height: 1 });
    expect(copies.colorAt(0, 0)).toBeUndefined();
    expect(copies.colorAt(599, 299)).toBe(6);
    copies.watch([{ tx: 0, ty: 0 }], { seq: 1n, epoch: 1n });
    expect(copies.colorAt(599, 299)).toBeUndefined();
    expect(route.reads.map((r) => r.minSeq)).toEqual([0n, 1n]);
  });

  it("reads a tile again when a batch of a newer epoch touches it, then applies what is newer than the read", async () => {
    const { route, copies } = setup();
    route.seq = 5n;
    copies.watch([{ tx: 0, ty: 0 }], { seq: 5n, epoch: 1n });
    await settleReads();
    expect(copies.loadedCount).toBe(1);
    // The store is in epoch 2 at seq 1, holding that batch.
    route.epoch = 2n;
    route.seq = 1n;
    route.paint(3, 3, 0x777777);
    route.hold = true;
    copies.applyBatch({ seq: 1n, epoch: 2n, pixels: [{ x: 3, y: 3, color: 0x777777 }] });
    expect(copies.copies()[0]?.copy).toEqual({ state: "loading" });
    copies.applyBatch({ seq: 2n, epoch: 2n, pixels: [{ x: 4, y: 3, color: 0x888888 }] });
    route.release();
    await settleReads();
    expect(copies.copies()[0]?.copy).toEqual({ state: "loaded", seq: 2n, epoch: 2n });
    expect([copies.colorAt(3, 3), copies.colorAt(4, 3)]).toEqual([0x777777, 0x888888]);
    expect(route.reads.at(-1)).toEqual({ tile: { tx: 0, ty: 0 }, minSeq: 1n });
  });

  it("retries a failed read with backoff, keeping the batches buffered meanwhile", async () => {
    const { route, clock, copies } = setup();
    route.failing = true;
    copies.watch([{ tx: 1, ty: 0 }], { seq: 0n, epoch: 1n });
    await settleReads();
    copies.applyBatch({ seq: 1n, epoch: 1n, pixels: [{ x: 300, y: 1, color: 0x123456 }] });
    route.failing = false;
    clock.advance(TILE_RETRY_BASE_MS);
    await settleReads();
    expect(route.reads).toHaveLength(2);
    expect(copies.colorAt(300, 1)).toBe(0x123456);
  });
});
