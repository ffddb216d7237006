import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema } from "../gen/pixel/v1/canvas_pb.js";
import { batchesAfterTileRead, batchTileKeys, MAX_WATCHED_TILES, tileBatchAction, tileKey, tileReadServesWatch, tilesToWatch } from "./tile-watch.js";

const at = (seq: bigint, epoch = 1n) => ({ seq, epoch });

describe("tilesToWatch (viewport -> tile set)", () => {
  it("names every level-0 tile the view touches, clipped to the canvas", () => {
    expect(tilesToWatch(2048, 2048, { x: 250, y: 0, width: 20, height: 300 })).toEqual([
      { tx: 0, ty: 0 },
      { tx: 1, ty: 0 },
      { tx: 0, ty: 1 },
      { tx: 1, ty: 1 },
    ]);
    expect(tilesToWatch(600, 300, { x: -100, y: -100, width: 10_000, height: 10_000 })).toHaveLength(6);
    expect(tilesToWatch(600, 300, { x: 700, y: 0, width: 10, height: 10 })).toEqual([]);
  });

  it("gives up beyond MAX_WATCHED_TILES, so a zoomed-out view reads overviews instead", () => {
    expect(tilesToWatch(8192, 8192, { x: 0, y: 0, width: 8192, height: 8192 })).toHaveLength(MAX_WATCHED_TILES);
    expect(tilesToWatch(8192 + 256, 8192, { x: 0, y: 0, width: 8192 + 256, height: 8192 })).toBeUndefined();
  });
});

describe("batchTileKeys", () => {
  it("lists each touched tile once, in first-touched order", () => {
    const pixels = [
      { x: 300, y: 10, color: 1 },
      { x: 301, y: 10, color: 1 },
      { x: 5, y: 600, color: 2 },
      { x: 310, y: 20, color: 3 },
    ];
    const bytes = toBinary(PixelBatchSchema, create(PixelBatchSchema, { seq: 3n, epoch: 1n, pixels }));
    expect(batchTileKeys(bytes, 8)).toEqual([tileKey({ tx: 1, ty: 0 }, 8), tileKey({ tx: 0, ty: 2 }, 8)]);
  });
});

describe("per-tile continuity", () => {
  it("buffers while the tile is read, then keeps only what the read does not hold", () => {
    expect(tileBatchAction({ state: "loading" }, at(5n))).toBe("buffer");
    const buffered = [at(4n), at(5n), at(6n), at(2n, 0n)];
    expect(batchesAfterTileRead(at(5n), buffered)).toEqual([at(6n)]);
  });

  it("applies any newer batch of the epoch (a filtered stream has holes) and skips what the tile holds", () => {
    const tile = { state: "loaded", seq: 10n, epoch: 1n } as const;
    expect(tileBatchAction(tile, at(11n))).toBe("apply");
    expect(tileBatchAction(tile, at(40n))).toBe("apply");
    expect(tileBatchAction(tile, at(10n))).toBe("skip");
    expect(tileBatchAction(tile, at(3n))).toBe("skip");
  });

  it("refetches on a newer epoch and ignores an older one", () => {
    const tile = { state: "loaded", seq: 10n, epoch: 5n } as const;
    expect(tileBatchAction(tile, at(0n, 6n))).toBe("refetch");
    expect(tileBatchAction(tile, at(99n, 4n))).toBe("skip");
  });

  it("accepts a tile read only at or after the seq its watch took effect", () => {
    expect(tileReadServesWatch(at(7n), at(7n))).toBe(true);
    expect(tileReadServesWatch(at(6n), at(7n))).toBe(false);
    expect(tileReadServesWatch(at(0n, 2n), at(7n, 1n))).toBe(true);
    expect(tileReadServesWatch(at(9n, 1n), at(7n, 2n))).toBe(false);
  });
});
