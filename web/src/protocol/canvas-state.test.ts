import { describe, expect, it } from "vitest";
import { CanvasState, UNLOADED_COLOR } from "./canvas-state.js";
import { FakeTiles, settleReads } from "./test-support/fake-tiles.js";
import { ManualClock } from "./test-support/manual-clock.js";

/** A 4×3 canvas at seq 10 whose one tile is watched and loaded. */
async function loaded(width = 4, height = 3, seq = 10n, epoch = 1n): Promise<CanvasState> {
  const tiles = new FakeTiles(width, height);
  tiles.seq = seq;
  tiles.epoch = epoch;
  const state = new CanvasState(tiles.reader, new ManualClock(), () => undefined);
  state.welcome({ width, height, seq, epoch });
  state.watching([{ tx: 0, ty: 0 }], seq, epoch);
  await settleReads();
  return state;
}

describe("CanvasState", () => {
  it("shows UNLOADED_COLOR until a tile is read, then its stored colours", async () => {
    const tiles = new FakeTiles(4, 3);
    tiles.paint(1, 2, 0x010203);
    tiles.hold = true;
    const state = new CanvasState(tiles.reader, new ManualClock(), () => undefined);
    state.welcome({ width: 4, height: 3, seq: 0n, epoch: 1n });
    state.watching([{ tx: 0, ty: 0 }], 0n, 1n);
    expect(state.colorAt(1, 2)).toBe(UNLOADED_COLOR);
    tiles.release();
    await settleReads();
    expect(state.colorAt(1, 2)).toBe(0x010203);
  });

  it("applies batches newer than the stream and reports the dirty region", async () => {
    const state = await loaded();
    const r = state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 1, y: 0, color: 0xff0000 }, { x: 3, y: 2, color: 0x00ff00 }] });
    expect(r).toEqual({ kind: "applied", dirty: { x: 1, y: 0, width: 3, height: 3 } });
    expect(state.seq).toBe(11n);
    expect(state.colorAt(1, 0)).toBe(0xff0000);
    expect(state.colorAt(3, 2)).toBe(0x00ff00);
    expect([...state.canonicalRgb().slice(3, 6)]).toEqual([255, 0, 0]);
  });

  it("ignores a duplicate batch (seq <= the stream's) or one of an older epoch", async () => {
    const state = await loaded();
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0x0000ff }] });
    expect(state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0xffffff }] })).toEqual({ kind: "duplicate" });
    expect(state.applyBatch({ seq: 3n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0xffffff }] })).toEqual({ kind: "duplicate" });
    expect(state.applyBatch({ seq: 30n, epoch: 0n, pixels: [{ x: 0, y: 0, color: 0xffffff }] })).toEqual({ kind: "duplicate" });
    expect(state.colorAt(0, 0)).toBe(0x0000ff);
    expect(state.seq).toBe(11n);
  });

  it("skips out-of-range pixels of a batch instead of wrapping them onto another row", async () => {
    const state = await loaded();
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 4, y: 0, color: 0xffffff }, { x: 0, y: 1, color: 0x010203 }] });
    expect(state.canonicalColorAt(0, 1)).toBe(0x010203);
    expect([...state.canonicalRgb()].filter((b) => b === 255)).toEqual([]);
  });

  it("shows a pending placement on top until the stream reaches its ack", async () => {
    const state = await loaded();
    state.addPending(1, [{ x: 2, y: 2, color: 0xabcdef }]);
    expect(state.colorAt(2, 2)).toBe(0xabcdef);
    expect(state.canonicalColorAt(2, 2)).toBe(0);
    // The Ack can overtake the batch that holds the placement: keep showing it meanwhile.
    expect(state.ack(1, 12n)).toBeUndefined();
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 2, y: 2, color: 0x111111 }] });
    expect(state.colorAt(2, 2)).toBe(0xabcdef);
    state.applyBatch({ seq: 12n, epoch: 1n, pixels: [{ x: 2, y: 2, color: 0xabcdef }] });
    expect(state.isPending(1)).toBe(false);
    expect(state.colorAt(2, 2)).toBe(0xabcdef);
  });

  it("settles an ack at once when the batch already arrived", async () => {
    const state = await loaded();
    state.addPending(5, [{ x: 0, y: 0, color: 0x00ffff }]);
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0x00ffff }] });
    expect(state.ack(5, 11n)).toEqual({ x: 0, y: 0, width: 1, height: 1 });
    expect(state.pendingCount).toBe(0);
  });

  it("rolls back a refused placement to the stored colour, keeping newer pending paint on top", async () => {
    const state = await loaded();
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 1, y: 1, color: 0x222222 }] });
    state.addPending(1, [{ x: 1, y: 1, color: 0xff0000 }, { x: 2, y: 1, color: 0xff0000 }]);
    state.addPending(2, [{ x: 2, y: 1, color: 0x0000ff }]);
    expect(state.rollback(1)).toEqual({ x: 1, y: 1, width: 2, height: 1 });
    expect(state.colorAt(1, 1)).toBe(0x222222);
    expect(state.colorAt(2, 1)).toBe(0x0000ff);
    state.rollback(2);
    expect(state.colorAt(2, 1)).toBe(0);
  });

  it("rolls back only unacknowledged placements when a connection is lost", async () => {
    const state = await loaded();
    state.addPending(1, [{ x: 0, y: 0, color: 1 }]);
    state.addPending(2, [{ x: 1, y: 0, color: 2 }, { x: 2, y: 0, color: 2 }]);
    state.ack(1, 20n);
    expect(state.rollbackUnacknowledged()).toEqual([{ clientSeq: 2, pixels: 2 }]);
    expect(state.isPending(1)).toBe(true);
    expect(state.colorAt(1, 0)).toBe(0);
  });

  it("keeps its tiles and placements across a Welcome of the same epoch and drops them on a new one", async () => {
    const state = await loaded();
    state.addPending(1, [{ x: 0, y: 0, color: 1 }]);
    state.ack(1, 30n);
    expect(state.welcome({ width: 4, height: 3, seq: 20n, epoch: 1n })).toBe(true);
    expect([state.seq, state.tiles.size, state.pendingCount]).toEqual([10n, 1, 1]);
    expect(state.welcome({ width: 4, height: 3, seq: 5n, epoch: 2n })).toBe(false);
    expect([state.seq, state.tiles.size, state.pendingCount]).toEqual([5n, 0, 0]);
  });
});
