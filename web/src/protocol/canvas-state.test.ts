import { describe, expect, it } from "vitest";
import { CanvasState } from "./canvas-state.js";

function loaded(width = 4, height = 3, seq = 10n, epoch = 1n): CanvasState {
  const state = new CanvasState();
  expect(state.loadSnapshot({ width, height, seq, epoch, pixels: new Uint8Array(width * height * 3) })).toBeUndefined();
  return state;
}

describe("CanvasState", () => {
  it("rejects a snapshot whose byte count does not match its size", () => {
    const state = new CanvasState();
    expect(state.loadSnapshot({ width: 2, height: 2, seq: 0n, epoch: 1n, pixels: new Uint8Array(11) })).toBe("snapshot has 11 bytes; a 2x2 canvas needs 12");
    expect(state.loaded).toBe(false);
  });

  it("applies batches in seq order and reports the dirty region", () => {
    const state = loaded();
    const r = state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 1, y: 0, color: 0xff0000 }, { x: 3, y: 2, color: 0x00ff00 }] });
    expect(r).toEqual({ kind: "applied", dirty: { x: 1, y: 0, width: 3, height: 3 } });
    expect(state.seq).toBe(11n);
    expect(state.colorAt(1, 0)).toBe(0xff0000);
    expect(state.colorAt(3, 2)).toBe(0x00ff00);
    expect(Array.from(state.pixels.slice(3, 6))).toEqual([255, 0, 0]);
  });

  it("ignores a duplicate batch (seq <= current) without touching the canvas", () => {
    const state = loaded();
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0x0000ff }] });
    expect(state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0xffffff }] })).toEqual({ kind: "duplicate" });
    expect(state.applyBatch({ seq: 3n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0xffffff }] })).toEqual({ kind: "duplicate" });
    expect(state.colorAt(0, 0)).toBe(0x0000ff);
    expect(state.seq).toBe(11n);
  });

  it("reports a gap and a foreign epoch without applying them", () => {
    const state = loaded();
    expect(state.applyBatch({ seq: 13n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 1 }] })).toEqual({ kind: "gap", expectedSeq: 11n, gotSeq: 13n, epochChanged: false });
    expect(state.applyBatch({ seq: 11n, epoch: 2n, pixels: [{ x: 0, y: 0, color: 1 }] })).toEqual({ kind: "gap", expectedSeq: 11n, gotSeq: 11n, epochChanged: true });
    expect(state.colorAt(0, 0)).toBe(0);
    expect(state.seq).toBe(10n);
  });

  it("skips out-of-range pixels of a batch instead of wrapping them onto another row", () => {
    const state = loaded();
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 4, y: 0, color: 0xffffff }, { x: 0, y: 1, color: 0x010203 }] });
    expect(state.colorAt(0, 1)).toBe(0x010203);
    expect(state.canonicalColorAt(0, 1)).toBe(0x010203);
    expect(Array.from(state.pixels).filter((b) => b === 255)).toEqual([]);
  });

  it("shows a pending placement on top until the canonical seq reaches its ack", () => {
    const state = loaded();
    state.addPending(1, [{ x: 2, y: 2, color: 0xabcdef }]);
    expect(state.colorAt(2, 2)).toBe(0xabcdef);
    expect(state.canonicalColorAt(2, 2)).toBe(0);
    // The Ack can overtake the batch that holds the placement: keep showing it meanwhile.
    expect(state.ack(1, 12n)).toBeUndefined();
    expect(state.isPending(1)).toBe(true);
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 2, y: 2, color: 0x111111 }] });
    expect(state.colorAt(2, 2)).toBe(0xabcdef);
    state.applyBatch({ seq: 12n, epoch: 1n, pixels: [{ x: 2, y: 2, color: 0xabcdef }] });
    expect(state.isPending(1)).toBe(false);
    expect(state.pendingCount).toBe(0);
    expect(state.colorAt(2, 2)).toBe(0xabcdef);
  });

  it("settles an ack at once when the batch already arrived", () => {
    const state = loaded();
    state.addPending(5, [{ x: 0, y: 0, color: 0x00ffff }]);
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0x00ffff }] });
    expect(state.ack(5, 11n)).toEqual({ x: 0, y: 0, width: 1, height: 1 });
    expect(state.pendingCount).toBe(0);
  });

  it("rolls back a refused placement to the canonical colour, keeping newer pending paint on top", () => {
    const state = loaded();
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 1, y: 1, color: 0x222222 }] });
    state.addPending(1, [{ x: 1, y: 1, color: 0xff0000 }, { x: 2, y: 1, color: 0xff0000 }]);
    state.addPending(2, [{ x: 2, y: 1, color: 0x0000ff }]);
    expect(state.rollback(1)).toEqual({ x: 1, y: 1, width: 2, height: 1 });
    expect(state.colorAt(1, 1)).toBe(0x222222);
    expect(state.colorAt(2, 1)).toBe(0x0000ff);
    expect(state.rollback(2)).toBeDefined();
    expect(state.colorAt(2, 1)).toBe(0);
  });

  it("rolls back only unacknowledged placements when a connection is lost", () => {
    const state = loaded();
    state.addPending(1, [{ x: 0, y: 0, color: 1 }]);
    state.addPending(2, [{ x: 1, y: 0, color: 2 }, { x: 2, y: 0, color: 2 }]);
    state.ack(1, 20n);
    expect(state.rollbackUnacknowledged()).toEqual([{ clientSeq: 2, pixels: 2 }]);
    expect(state.isPending(1)).toBe(true);
    expect(state.colorAt(1, 0)).toBe(0);
  });

  it("drops acknowledged placements a new snapshot already contains, and all of them on a new epoch", () => {
    const state = loaded();
    state.addPending(1, [{ x: 0, y: 0, color: 1 }]);
    state.addPending(2, [{ x: 1, y: 0, color: 2 }]);
    state.ack(1, 15n);
    state.ack(2, 30n);
    state.loadSnapshot({ width: 4, height: 3, seq: 20n, epoch: 1n, pixels: new Uint8Array(36) });
    expect([state.isPending(1), state.isPending(2)]).toEqual([false, true]);
    state.loadSnapshot({ width: 4, height: 3, seq: 5n, epoch: 2n, pixels: new Uint8Array(36) });
    expect(state.pendingCount).toBe(0);
  });

  it("renders visible colours into RGBA", () => {
    const state = loaded(2, 1);
    state.applyBatch({ seq: 11n, epoch: 1n, pixels: [{ x: 0, y: 0, color: 0x102030 }] });
    state.addPending(1, [{ x: 1, y: 0, color: 0x405060 }]);
    const rgba = new Uint8ClampedArray(8);
    state.renderRgba(rgba);
    expect(Array.from(rgba)).toEqual([0x10, 0x20, 0x30, 255, 0x40, 0x50, 0x60, 255]);
  });

  it("can resume only the same size and epoch at or before its seq", () => {
    const state = loaded();
    expect(state.canResume(4, 3, 10n, 1n)).toBe(true);
    expect(state.canResume(4, 3, 9n, 1n)).toBe(true);
    expect(state.canResume(4, 3, 11n, 1n)).toBe(false);
    expect(state.canResume(4, 3, 10n, 2n)).toBe(false);
    expect(state.canResume(5, 3, 10n, 1n)).toBe(false);
  });
});
