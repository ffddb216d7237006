import { describe, expect, it } from "vitest";
import { CanvasState } from "../protocol/canvas-state.js";
import { FakeTiles, settleReads } from "../protocol/test-support/fake-tiles.js";
import { ManualClock } from "../protocol/test-support/manual-clock.js";
import { clientPixelSource } from "./pixel-source.js";

/** A 4×3 canvas whose pixel (x, y) has colour 0x(x)(y)00 in its red and green bytes, its one tile loaded. */
async function state(): Promise<CanvasState> {
  const tiles = new FakeTiles(4, 3);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) tiles.paint(x, y, (x << 16) | (y << 8));
  const s = new CanvasState(tiles.reader, new ManualClock(), () => undefined);
  s.welcome({ width: 4, height: 3, seq: 0n, epoch: 1n });
  s.watching([{ tx: 0, ty: 0 }], 0n, 1n);
  await settleReads();
  return s;
}

describe("clientPixelSource", () => {
  it("reads a rect into the top left of a wider buffer, row by row at the given stride, opaque", async () => {
    const canvas = await state();
    const source = clientPixelSource({ canvas, on: () => () => undefined, watchRegion: () => undefined });
    expect(source.size()).toEqual({ width: 4, height: 3 });
    const target = new Uint8ClampedArray(3 * 2 * 4).fill(9);
    source.read({ x: 2, y: 1, width: 2, height: 2 }, target, 3);
    expect([...target]).toEqual([2, 1, 0, 255, 3, 1, 0, 255, 9, 9, 9, 9, 2, 2, 0, 255, 3, 2, 0, 255, 9, 9, 9, 9]);
  });

  it("shows the user's own placements that are not confirmed yet", async () => {
    const canvas = await state();
    canvas.addPending(1, [{ x: 1, y: 0, color: 0xabcdef }]);
    const target = new Uint8ClampedArray(4);
    clientPixelSource({ canvas, on: () => () => undefined, watchRegion: () => undefined }).read({ x: 1, y: 0, width: 1, height: 1 }, target, 1);
    expect([...target]).toEqual([0xab, 0xcd, 0xef, 255]);
  });

  it("watches the tiles of the region the screen wants", async () => {
    const wanted: unknown[] = [];
    const source = clientPixelSource({ canvas: await state(), on: () => () => undefined, watchRegion: (rect) => wanted.push(rect) });
    source.want({ x: 1, y: 1, width: 2, height: 2 });
    expect(wanted).toEqual([{ x: 1, y: 1, width: 2, height: 2 }]);
  });
});
