import { describe, expect, it } from "vitest";
import { AckLedger, type StoredCanvas } from "./ack-ledger.js";
import { compareCanvases } from "./divergence.js";
import { summarize } from "./percentiles.js";

function canvas(width: number, height: number, paint: Array<[number, number, number]>, seq = 10n, epoch = 1n): StoredCanvas {
  const pixels = new Uint8Array(width * height * 3);
  for (const [x, y, color] of paint) {
    const i = (y * width + x) * 3;
    pixels.set([(color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff], i);
  }
  return { width, height, seq, epoch, pixels };
}

describe("AckLedger", () => {
  it("accounts for an acked pixel that storage holds", () => {
    const ledger = new AckLedger();
    ledger.recordAck(3n, 1n, [{ x: 1, y: 1, color: 0xff0000 }]);
    const r = ledger.check(canvas(4, 4, [[1, 1, 0xff0000]]));
    expect([r.ackedPixels, r.accountedPixels, r.lost.length]).toEqual([1, 1, 0]);
  });

  it("reports an acked pixel storage lost when no later write explains it", () => {
    const ledger = new AckLedger();
    ledger.recordAck(3n, 1n, [{ x: 1, y: 1, color: 0xff0000 }]);
    const r = ledger.check(canvas(4, 4, [[1, 1, 0x00ff00]]));
    expect(r.lost).toEqual([{ x: 1, y: 1, color: 0xff0000, seq: 3n, stored: 0x00ff00 }]);
  });

  it("accepts a pixel overwritten by a later acked or observed write, and by another colour in the same batch", () => {
    const ledger = new AckLedger();
    ledger.recordAck(3n, 1n, [{ x: 0, y: 0, color: 1 }]);
    ledger.recordAck(5n, 1n, [{ x: 0, y: 0, color: 2 }]);
    ledger.recordAck(4n, 1n, [{ x: 2, y: 0, color: 7 }]);
    ledger.recordBatch(6n, 1n, [{ x: 2, y: 0, color: 8 }]);
    ledger.recordAck(7n, 1n, [{ x: 3, y: 3, color: 5 }]);
    ledger.recordAck(7n, 1n, [{ x: 3, y: 3, color: 6 }]);
    const r = ledger.check(canvas(4, 4, [[0, 0, 2], [2, 0, 8], [3, 3, 6]]));
    expect(r.lost).toEqual([]);
    expect(r.accountedPixels).toBe(5);
  });

  it("counts acks ahead of storage and acks from another epoch", () => {
    const ledger = new AckLedger();
    ledger.recordAck(12n, 1n, [{ x: 0, y: 0, color: 0 }]);
    ledger.recordAck(2n, 0n, [{ x: 0, y: 0, color: 9 }]);
    const r = ledger.check(canvas(2, 2, [], 10n, 1n));
    expect([r.acksAheadOfStorage, r.acksFromOtherEpochs]).toEqual([1, 1]);
  });
});

describe("compareCanvases", () => {
  it("finds identical copies identical and counts distinct divergent positions", () => {
    const ref = { name: "GetCanvas", ...canvas(3, 3, [[0, 0, 5]]) };
    const same = { ...ref, name: "a", pixels: ref.pixels.slice() };
    expect(compareCanvases(ref, [same]).identical).toBe(true);
    const off = { ...ref, name: "b", pixels: canvas(3, 3, [[1, 1, 5]]).pixels };
    const r = compareCanvases(ref, [same, off, { ...off, name: "c" }]);
    expect(r.divergentPixels).toBe(2);
    expect(r.divergentCopies.map((c) => c.name)).toEqual(["b", "c"]);
  });

  it("flags a copy at another seq even with equal bytes", () => {
    const ref = { name: "GetCanvas", ...canvas(2, 2, []) };
    expect(compareCanvases(ref, [{ ...ref, name: "late", seq: 9n }]).identical).toBe(false);
  });
});

describe("summarize", () => {
  it("gives nearest-rank median and p99", () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect([s.count, s.min, s.median, s.p99, s.max]).toEqual([100, 1, 50, 99, 100]);
  });
});
