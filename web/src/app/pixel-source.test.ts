import { describe, expect, it } from "vitest";
import { CanvasState } from "../protocol/canvas-state.js";
import { clientPixelSource } from "./pixel-source.js";

/** A 4×3 canvas whose pixel (x, y) has colour 0x(x)(y)00 in its red and green bytes. */
function state(): CanvasState {
  const s = new CanvasState();
  const pixels = new Uint8Array(4 * 3 * 3);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) pixels.set([x, y, 0], (y * 4 + x) * 3);
  s.loadSnapshot({ width: 4, height: 3, seq: 1n, epoch: 1n, pixels });
  return s;
}

describe("clientPixelSource", () => {
  it("reads a rect into the top left of a wider buffer, row by row at the given stride, opaque", () => {
    const canvas = state();
    const source = clientPixelSource({ canvas, on: () => () => undefined });
    expect(source.size()).toEqual({ width: 4, height: 3 });
    const target = new Uint8ClampedArray(3 * 2 * 4).fill(9);
    source.read({ x: 2, y: 1, width: 2, height: 2 }, target, 3);
    expect([...target]).toEqual([2, 1, 0, 255, 3, 1, 0, 255, 9, 9, 9, 9, 2, 2, 0, 255, 3, 2, 0, 255, 9, 9, 9, 9]);
  });

  it("shows the user's own placements that are not confirmed yet", () => {
    const canvas = state();
    canvas.addPending(1, [{ x: 1, y: 0, color: 0xabcdef }]);
    const target = new Uint8ClampedArray(4);
    clientPixelSource({ canvas, on: () => () => undefined }).read({ x: 1, y: 0, width: 1, height: 1 }, target, 1);
    expect([...target]).toEqual([0xab, 0xcd, 0xef, 255]);
  });
});
