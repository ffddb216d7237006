import { describe, expect, it } from "vitest";
import { canvasOrigin, canvasToScreen, clampView, fitView, fitZoom, MAX_ZOOM, MIN_ZOOM, minZoom, panBy, pinchView, pixelAt, screenToCanvas, visibleRect, zoomAt } from "./viewport.js";

const small = { width: 50, height: 50 };
const big = { width: 2048, height: 2048 };
const screen = { width: 800, height: 600 };

describe("fitting the canvas", () => {
  it("fits the 50×50 canvas at a whole-number zoom, so every pixel is equally wide", () => {
    expect(fitZoom(small, screen)).toBe(12);
    expect(fitView(small, screen)).toEqual({ x: 25, y: 25, zoom: 12 });
  });

  it("fits a big canvas below 1 without rounding, and lets the minimum zoom go that low on a small screen", () => {
    expect(fitZoom(big, screen)).toBeCloseTo(600 / 2048, 10);
    expect(minZoom(big, { width: 360, height: 640 })).toBeCloseTo(360 / 2048, 10);
    expect(minZoom(small, screen)).toBe(MIN_ZOOM);
  });

  it("never fits above the maximum zoom", () => {
    expect(fitZoom({ width: 2, height: 2 }, screen)).toBe(MAX_ZOOM);
  });
});

describe("screen and canvas coordinates", () => {
  const view = { x: 100, y: 200, zoom: 8 };

  it("puts the view centre at the screen centre", () => {
    expect(canvasToScreen(view, screen, { x: 100, y: 200 })).toEqual({ x: 400, y: 300 });
    expect(screenToCanvas(view, screen, { x: 400, y: 300 })).toEqual({ x: 100, y: 200 });
  });

  it("round-trips a point both ways", () => {
    const p = { x: 123.25, y: 17.5 };
    expect(screenToCanvas(view, screen, canvasToScreen(view, screen, p))).toEqual(p);
  });

  it("rounds the canvas origin to whole screen pixels", () => {
    expect(canvasOrigin({ x: 25.3, y: 25, zoom: 3 }, { width: 801, height: 600 })).toEqual({ x: 325, y: 225 });
  });

  it("finds the pixel under a screen point, and none beside the canvas", () => {
    // Pixel (100, 200) spans screen x 400..407 and y 300..307.
    expect(pixelAt(view, screen, big, { x: 407.9, y: 300 })).toEqual({ x: 100, y: 200 });
    expect(pixelAt(view, screen, big, { x: 408, y: 299.9 })).toEqual({ x: 101, y: 199 });
    const fitted = fitView(small, screen);
    expect(pixelAt(fitted, screen, small, { x: 10, y: 300 })).toBeNull();
    expect(pixelAt(fitted, screen, small, { x: 700, y: 300 })).toBeNull();
    expect(pixelAt(fitted, screen, small, { x: 100, y: 0 })).toEqual({ x: 0, y: 0 });
  });
});

describe("the visible rect", () => {
  it("covers exactly the pixels at least partly on screen", () => {
    // Screen x 0..800 is canvas x 50..150 at zoom 8; y 0..600 is 162.5..237.5.
    expect(visibleRect({ x: 100, y: 200, zoom: 8 }, screen, big)).toEqual({ x: 50, y: 162, width: 100, height: 76 });
  });

  it("is cut to the canvas when the canvas is smaller than the screen", () => {
    expect(visibleRect(fitView(small, screen), screen, small)).toEqual({ x: 0, y: 0, width: 50, height: 50 });
  });

  it("stays small on a big canvas when zoomed in: a frame never touches the whole canvas", () => {
    const r = visibleRect({ x: 1024, y: 1024, zoom: 32 }, screen, big);
    expect(r.width * r.height).toBeLessThanOrEqual(26 * 20);
  });
});

describe("zooming and panning", () => {
  it("zooms to the cursor: the canvas point under it stays under it", () => {
    const view = fitView(big, screen);
    const at = { x: 250, y: 120 };
    const before = screenToCanvas(view, screen, at);
    const zoomed = zoomAt(view, screen, big, at, 4);
    expect(zoomed.zoom).toBeCloseTo(view.zoom * 4, 10);
    const after = screenToCanvas(zoomed, screen, at);
    // Within the rounding of the origin to whole screen pixels.
    expect(Math.abs(after.x - before.x) * zoomed.zoom).toBeLessThanOrEqual(0.5);
    expect(Math.abs(after.y - before.y) * zoomed.zoom).toBeLessThanOrEqual(0.5);
  });

  it("clamps the zoom between its limits", () => {
    const view = { x: 1024, y: 1024, zoom: 32 };
    expect(zoomAt(view, screen, big, { x: 0, y: 0 }, 1000).zoom).toBe(MAX_ZOOM);
    expect(zoomAt(view, screen, big, { x: 0, y: 0 }, 1e-6).zoom).toBe(minZoom(big, screen));
  });

  it("pans by screen pixels at the current zoom, the canvas following the drag", () => {
    expect(panBy({ x: 100, y: 100, zoom: 4 }, screen, big, 40, -80)).toEqual({ x: 90, y: 120, zoom: 4 });
  });

  it("keeps the centre on the canvas, so the canvas cannot be lost off screen", () => {
    expect(panBy({ x: 10, y: 10, zoom: 1 }, screen, small, 5000, -5000)).toEqual({ x: 0, y: 50, zoom: 1 });
    expect(clampView({ x: -3, y: 99, zoom: 500 }, small, screen)).toEqual({ x: 0, y: 50, zoom: MAX_ZOOM });
  });

  it("pinches: spreading the fingers zooms by the distance ratio and the midpoint's canvas point follows the fingers", () => {
    const start = { x: 1024, y: 1024, zoom: 2 };
    const from = [{ x: 300, y: 300 }, { x: 500, y: 300 }] as const;
    const to = [{ x: 250, y: 350 }, { x: 650, y: 350 }] as const;
    const under = screenToCanvas(start, screen, { x: 400, y: 300 });
    const view = pinchView(start, screen, big, from, to);
    expect(view.zoom).toBeCloseTo(4, 10);
    const now = screenToCanvas(view, screen, { x: 450, y: 350 });
    expect(Math.abs(now.x - under.x) * view.zoom).toBeLessThanOrEqual(1);
    expect(Math.abs(now.y - under.y) * view.zoom).toBeLessThanOrEqual(1);
  });
});
