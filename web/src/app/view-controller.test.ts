import { describe, expect, it } from "vitest";
import { ViewController } from "./view-controller.js";
import { parseViewParams } from "./view-url.js";

const screen = { width: 800, height: 600 };

function readyController(search = ""): ViewController {
  const c = new ViewController(parseViewParams(search));
  c.setCanvas({ width: 512, height: 512 });
  c.setScreen(screen);
  return c;
}

describe("ViewController", () => {
  it("is not ready until both the canvas and the screen have a size", () => {
    const c = new ViewController();
    c.setScreen(screen);
    expect(c.ready).toBe(false);
    c.setCanvas({ width: 50, height: 50 });
    expect(c.ready).toBe(true);
  });

  it("starts fitted and stays fitted through resizes until the user moves the view", () => {
    const c = readyController();
    expect(c.isFitted).toBe(true);
    expect(c.current).toEqual({ x: 256, y: 256, zoom: 1 });
    c.setScreen({ width: 1200, height: 1100 });
    expect(c.current).toEqual({ x: 256, y: 256, zoom: 2 });
    c.pan(100, 0);
    expect(c.isFitted).toBe(false);
    c.setScreen(screen);
    expect(c.current).toEqual({ x: 206, y: 256, zoom: 2 });
  });

  it("starts at the link's view once the sizes are known, clamped to the canvas", () => {
    const c = new ViewController(parseViewParams("?x=600&y=100&zoom=8"));
    c.setScreen(screen);
    c.setCanvas({ width: 512, height: 512 });
    expect(c.current).toEqual({ x: 512, y: 100, zoom: 8 });
    expect(c.isFitted).toBe(false);
  });

  it("fills what a link left out from the fitted view", () => {
    expect(readyController("?zoom=4").current).toEqual({ x: 256, y: 256, zoom: 4 });
  });

  it("fit() returns to the whole canvas", () => {
    const c = readyController("?x=10&y=10&zoom=16");
    c.fit();
    expect(c.isFitted).toBe(true);
    expect(c.current).toEqual({ x: 256, y: 256, zoom: 1 });
  });

  it("tells its listeners about every change, and only about changes", () => {
    const c = readyController();
    let calls = 0;
    const off = c.subscribe(() => calls++);
    c.zoom(2);
    c.centreOn({ x: 10, y: 20 });
    c.fit();
    c.fit();
    off();
    c.pan(5, 5);
    expect(calls).toBe(3);
  });

  it("zooms around the screen centre by default and around a given point otherwise", () => {
    const c = readyController();
    c.zoom(4);
    expect(c.current).toEqual({ x: 256, y: 256, zoom: 4 });
    // The canvas point under (0, 0) at zoom 4 is (156, 181); zooming there keeps it there.
    c.zoom(2, { x: 0, y: 0 });
    expect(c.current).toEqual({ x: 206, y: 218.5, zoom: 8 });
  });
});
