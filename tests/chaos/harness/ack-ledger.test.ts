import { describe, expect, it } from "vitest";
import { AckLedger, ledgerFailures, type StoredCanvas } from "./ack-ledger.js";
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

type Px = { x: number; y: number; color: number };

/** A ledger that sent and had acked `acks`, with `history` as the stored batches (seq -> pixels, epoch 1). */
function ledgerWith(acks: Array<[bigint, Px[]]>, history: Array<[bigint, Px[]]>, unackedSent: Px[] = []): AckLedger {
  const ledger = new AckLedger();
  for (const [seq, pixels] of acks) {
    ledger.recordSent(pixels);
    ledger.recordAck(seq, 1n, pixels);
  }
  ledger.recordSent(unackedSent);
  for (const [seq, pixels] of history) ledger.recordStoredBatch(seq, 1n, pixels);
  return ledger;
}

const red = { x: 1, y: 1, color: 0xff0000 };
const green = { x: 2, y: 1, color: 0x00ff00 };

describe("AckLedger", () => {
  it("verifies placements merged into one stored batch with a placement whose Ack was lost", () => {
    const unacked = { x: 3, y: 3, color: 7 };
    const ledger = ledgerWith([[3n, [red]], [3n, [green]]], [[2n, []], [3n, [red, unacked, green]]], [unacked]);
    const r = ledger.check(canvas(4, 4, [[1, 1, red.color], [2, 1, green.color], [3, 3, 7]], 3n));
    expect(r).toMatchObject({ ackedPlacements: 2, ackedPixels: 2, verifiedPlacements: 2, lost: [], acksAheadOfStorage: 0, acksOutsideHistory: 0, unexplainedPixels: 0 });
    expect(ledgerFailures(r)).toEqual([]);
  });

  it("reports an acked pixel the canvas lost with no later stored write explaining it", () => {
    const ledger = ledgerWith([[3n, [red]]], [[3n, [red]]]);
    const r = ledger.check(canvas(4, 4, [[1, 1, 0x00ff00]], 3n));
    expect(r.lost).toEqual([{ ...red, seq: 3n, stored: 0x00ff00, reason: "not-on-canvas" }]);
    expect(ledgerFailures(r)).toEqual(["1 acked pixels missing from the canvas with no later write explaining it"]);
  });

  it("accepts an acked pixel overwritten by a later batch or later in its own batch", () => {
    const later = { ...red, color: 5 };
    const ledger = ledgerWith([[3n, [red]], [4n, [green]]], [[3n, [red]], [4n, [green, { ...green, color: 6 }]], [5n, [later]]], [later, { ...green, color: 6 }]);
    const r = ledger.check(canvas(4, 4, [[1, 1, 5], [2, 1, 6]], 5n));
    expect([r.lost, r.verifiedPlacements]).toEqual([[], 2]);
  });

  it("reports a stored batch missing one of a placement's pixels, even when the canvas holds its colour", () => {
    const ledger = ledgerWith([[3n, [red, green]]], [[3n, [red]], [4n, [green]]], []);
    const r = ledger.check(canvas(4, 4, [[1, 1, red.color], [2, 1, green.color]], 4n));
    expect(r.lost).toEqual([{ ...green, seq: 3n, stored: green.color, reason: "missing-from-batch" }]);
    expect(r.verifiedPlacements).toBe(0);
    expect(ledgerFailures(r)).toContain("1 acked pixels missing from the stored batch their Ack named");
  });

  it("fails an ack ahead of storage, and one older than the retained history", () => {
    const ledger = ledgerWith([[12n, [red]], [1n, [green]]], [[5n, []], [10n, []]]);
    const r = ledger.check(canvas(4, 4, [], 10n));
    expect([r.acksAheadOfStorage, r.acksOutsideHistory, r.verifiedPlacements]).toEqual([1, 1, 0]);
    expect(ledgerFailures(r)).toEqual([
      "1 acks name a seq storage has not reached",
      "1 acks are older than the retained history and could not be checked",
    ]);
  });

  it("counts pixels in an acked batch that no placement sent explains", () => {
    const ledger = ledgerWith([[3n, [red]]], [[3n, [red, { x: 0, y: 0, color: 9 }]]]);
    const r = ledger.check(canvas(4, 4, [[1, 1, red.color], [0, 0, 9]], 3n));
    expect(r.unexplainedPixels).toBe(1);
    expect(ledgerFailures(r)).toEqual(["1 pixels in acked batches that no placement explains"]);
  });

  it("reports an ack from another epoch without checking it against this epoch's history", () => {
    const ledger = ledgerWith([[3n, [red]]], [[3n, [red]]]);
    ledger.recordAck(2n, 0n, [green]);
    const r = ledger.check(canvas(4, 4, [[1, 1, red.color]], 3n, 1n));
    expect([r.acksFromOtherEpochs, r.verifiedPlacements, r.lost.length]).toEqual([1, 1, 0]);
    expect(ledgerFailures(r)).toEqual([]);
  });

  it("fails a run in which nothing was acknowledged", () => {
    expect(ledgerFailures(new AckLedger().check(canvas(2, 2, [])))).toEqual(["nothing was acknowledged"]);
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
