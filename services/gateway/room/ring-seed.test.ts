import { describe, expect, it } from "vitest";
import { publishedBatch } from "../test-support/test-helpers.js";
import { ringSeed } from "./ring-seed.js";

describe("ringSeed", () => {
  it("gives one entry per batch, in order, with each batch's tiles, when the history ends at the head", () => {
    const history = [4n, 5n].map((s) => publishedBatch(s, [{ x: s === 4n ? 1 : 300, y: 0, color: 1 }]));
    const seed = ringSeed(history, { seq: 5n, epoch: 1n }, 3);
    expect(seed).toMatchObject({ ok: true, entries: [{ seq: 4n, entry: { tiles: [0] } }, { seq: 5n, entry: { tiles: [1] } }] });
  });

  it("refuses history that skips a seq, ends before the head or is of another epoch", () => {
    const head = { seq: 3n, epoch: 1n };
    expect(ringSeed([publishedBatch(1n, []), publishedBatch(3n, [])], head, 1)).toMatchObject({ ok: false, reason: "history does not end at the snapshot" });
    expect(ringSeed([publishedBatch(2n, [])], head, 1)).toMatchObject({ ok: false, reason: "history does not end at the snapshot" });
    expect(ringSeed([publishedBatch(3n, [], 2n)], head, 1)).toMatchObject({ ok: false, reason: "history does not end at the snapshot" });
  });

  it("refuses history with an undecodable batch", () => {
    expect(ringSeed([new Uint8Array([0xff, 0xff, 0xff])], { seq: 1n, epoch: 1n }, 1)).toMatchObject({ ok: false, reason: "undecodable history batch" });
  });
});
