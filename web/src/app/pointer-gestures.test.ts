import { describe, expect, it } from "vitest";
import { linePixels, type Point } from "../protocol/line-pixels.js";
import { PointerGestures } from "./pointer-gestures.js";
import { ViewController } from "./view-controller.js";

/** A 50×50 canvas on an 800×600 screen at zoom 10 centred: pixel (x, y) spans screen (150+10x, 50+10y). */
function setup(options: { hand?: boolean; live?: boolean } = {}) {
  const view = new ViewController({ x: 25, y: 25, zoom: 10 });
  view.setCanvas({ width: 50, height: 50 });
  view.setScreen({ width: 800, height: 600 });
  const painted: Point[][] = [];
  const gestures = new PointerGestures(view, {
    panning: () => options.hand ?? false,
    paint: (points) => {
      if (options.live === false) return false;
      painted.push([...points]);
      return true;
    },
  });
  return { view, gestures, painted };
}

const at = (id: number, x: number, y: number, button = 0) => ({ id, x, y, button });

describe("PointerGestures", () => {
  it("paints the pixel under a press and a gap-free line along a drag in brush mode", () => {
    const { gestures, painted } = setup();
    gestures.down(at(1, 155, 55));
    gestures.move(at(1, 185, 55));
    gestures.up(1);
    expect(painted).toEqual([[{ x: 0, y: 0 }], [{ x: 1, y: 0 }, { x: 2, y: 0 }, { x: 3, y: 0 }]]);
    expect(gestures.kind).toBe("idle");
  });

  it("uses the coalesced samples of a move, in order", () => {
    const { gestures, painted } = setup();
    gestures.down(at(1, 155, 55));
    gestures.move(at(1, 155, 85), [at(1, 175, 55), at(1, 155, 85)]);
    expect(painted[1]).toEqual([...linePixels({ x: 0, y: 0 }, { x: 2, y: 0 }).slice(1), ...linePixels({ x: 2, y: 0 }, { x: 0, y: 3 }).slice(1)]);
  });

  it("keeps a stroke that leaves the canvas on its edge", () => {
    const { gestures, painted } = setup();
    gestures.down(at(1, 155, 75));
    // Left of the canvas is still column 0: nothing new to paint.
    gestures.move(at(1, 100, 75));
    expect(painted).toHaveLength(1);
    gestures.move(at(1, 100, 95));
    expect(painted[1]).toEqual([{ x: 0, y: 3 }, { x: 0, y: 4 }]);
  });

  it("pans instead of painting in hand mode, with the middle button, or when pressed beside the canvas", () => {
    for (const [options, press] of [
      [{ hand: true }, at(1, 400, 300)],
      [{}, at(1, 400, 300, 1)],
      [{}, at(1, 50, 300)],
    ] as const) {
      const { view, gestures, painted } = setup(options);
      gestures.down(press);
      gestures.move({ ...press, x: press.x + 100, y: press.y - 50 });
      expect(painted).toEqual([]);
      expect(view.current).toEqual({ x: 15, y: 30, zoom: 10 });
    }
  });

  it("turns a second pointer into a pinch that zooms, and paints nothing more", () => {
    const { view, gestures, painted } = setup();
    gestures.down(at(1, 350, 300));
    gestures.down(at(2, 450, 300));
    expect(gestures.kind).toBe("pinch");
    gestures.move(at(1, 300, 300));
    gestures.move(at(2, 500, 300));
    expect(view.current.zoom).toBeCloseTo(20, 10);
    gestures.up(2);
    gestures.move(at(1, 200, 300));
    expect(gestures.kind).toBe("idle");
    expect(painted).toEqual([[{ x: 20, y: 25 }]]);
  });

  it("paints a finger's first pixel only when it moves or lifts, so the first finger of a pinch paints nothing", () => {
    const tap = setup();
    tap.gestures.down({ ...at(1, 155, 55), touch: true });
    expect(tap.painted).toEqual([]);
    tap.gestures.up(1);
    expect(tap.painted).toEqual([[{ x: 0, y: 0 }]]);

    const drag = setup();
    drag.gestures.down({ ...at(1, 155, 55), touch: true });
    drag.gestures.move({ ...at(1, 175, 55), touch: true });
    expect(drag.painted).toEqual([[{ x: 0, y: 0 }], [{ x: 1, y: 0 }, { x: 2, y: 0 }]]);

    const pinch = setup();
    pinch.gestures.down({ ...at(1, 350, 300), touch: true });
    pinch.gestures.down({ ...at(2, 450, 300), touch: true });
    pinch.gestures.move({ ...at(2, 550, 300), touch: true });
    pinch.gestures.up(1);
    pinch.gestures.up(2);
    expect(pinch.gestures.kind).toBe("idle");
    expect(pinch.painted).toEqual([]);
  });

  it("ends the stroke when painting is refused", () => {
    const { gestures, painted } = setup({ live: false });
    gestures.down(at(1, 155, 55));
    expect(gestures.kind).toBe("idle");
    gestures.move(at(1, 185, 55));
    expect(painted).toEqual([]);
  });

  it("ignores the secondary button", () => {
    const { gestures } = setup();
    expect(gestures.down(at(1, 155, 55, 2))).toBe(false);
    expect(gestures.kind).toBe("idle");
  });
});
