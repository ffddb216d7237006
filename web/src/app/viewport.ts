import type { Point } from "../protocol/line-pixels.js";
import type { Rect } from "../protocol/rect.js";

/**
 * What part of the canvas the screen shows: the canvas point at the screen's centre (in canvas
 * pixels, fractional) and the zoom (screen CSS pixels per canvas pixel).
 */
export interface View {
  x: number;
  y: number;
  zoom: number;
}

/** A width and height: of the canvas in canvas pixels, or of the screen area in CSS pixels. */
export interface Size {
  width: number;
  height: number;
}

/** The smallest zoom a user can pick (a canvas bigger than the screen at this zoom may fit lower). */
export const MIN_ZOOM = 0.25;
/** The largest zoom: one canvas pixel covers 64×64 screen pixels. */
export const MAX_ZOOM = 64;
/** How much one keyboard or button step zooms. */
export const ZOOM_STEP = 1.5;

/**
 * The zoom that shows the whole canvas. Above 1 it is rounded down to a whole number, so every
 * canvas pixel is the same number of screen pixels wide.
 */
export function fitZoom(canvas: Size, screen: Size): number {
  if (canvas.width <= 0 || canvas.height <= 0 || screen.width <= 0 || screen.height <= 0) return 1;
  const z = Math.min(screen.width / canvas.width, screen.height / canvas.height, MAX_ZOOM);
  return z >= 1 ? Math.floor(z) : z;
}

/** The smallest allowed zoom: MIN_ZOOM, or lower when the whole canvas needs it to fit. */
export function minZoom(canvas: Size, screen: Size): number {
  return Math.min(MIN_ZOOM, fitZoom(canvas, screen));
}

/** The view that shows the whole canvas, centred. */
export function fitView(canvas: Size, screen: Size): View {
  return { x: canvas.width / 2, y: canvas.height / 2, zoom: fitZoom(canvas, screen) };
}

/** Keeps the zoom within its limits and the centre on the canvas, so the canvas never leaves the screen. */
export function clampView(view: View, canvas: Size, screen: Size): View {
  const zoom = Math.min(MAX_ZOOM, Math.max(minZoom(canvas, screen), view.zoom));
  return {
    x: Math.min(canvas.width, Math.max(0, view.x)),
    y: Math.min(canvas.height, Math.max(0, view.y)),
    zoom,
  };
}

/**
 * Where canvas point (0, 0) lands on the screen, in CSS pixels. Rounded to whole pixels so that at
 * whole-number zooms every canvas pixel starts on a screen pixel; every transform goes through it,
 * so what is drawn and what is hit by the pointer agree exactly.
 */
export function canvasOrigin(view: View, screen: Size): Point {
  return {
    x: Math.round(screen.width / 2 - view.x * view.zoom),
    y: Math.round(screen.height / 2 - view.y * view.zoom),
  };
}

/** The canvas point (fractional canvas pixels) under screen point `p` (CSS pixels from the screen's top left). */
export function screenToCanvas(view: View, screen: Size, p: Point): Point {
  const o = canvasOrigin(view, screen);
  return { x: (p.x - o.x) / view.zoom, y: (p.y - o.y) / view.zoom };
}

/** The screen point (CSS pixels) of canvas point `p`. */
export function canvasToScreen(view: View, screen: Size, p: Point): Point {
  const o = canvasOrigin(view, screen);
  return { x: o.x + p.x * view.zoom, y: o.y + p.y * view.zoom };
}

/** The canvas pixel under screen point `p`, or null when `p` is off the canvas. */
export function pixelAt(view: View, screen: Size, canvas: Size, p: Point): Point | null {
  const c = screenToCanvas(view, screen, p);
  const x = Math.floor(c.x);
  const y = Math.floor(c.y);
  if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) return null;
  return { x, y };
}

/**
 * The canvas pixels at least partly on screen (whole pixels, within the canvas); width or height
 * is 0 when none are. This is all a frame needs to draw.
 */
export function visibleRect(view: View, screen: Size, canvas: Size): Rect {
  const a = screenToCanvas(view, screen, { x: 0, y: 0 });
  const b = screenToCanvas(view, screen, { x: screen.width, y: screen.height });
  const x0 = Math.max(0, Math.floor(a.x));
  const y0 = Math.max(0, Math.floor(a.y));
  const x1 = Math.min(canvas.width, Math.ceil(b.x));
  const y1 = Math.min(canvas.height, Math.ceil(b.y));
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** Zooms by `factor` keeping the canvas point under screen point `at` where it is (zoom to cursor). */
export function zoomAt(view: View, screen: Size, canvas: Size, at: Point, factor: number): View {
  const before = screenToCanvas(view, screen, at);
  const zoom = clampView({ ...view, zoom: view.zoom * factor }, canvas, screen).zoom;
  // Solve for the centre that puts `before` back under `at` at the new zoom.
  const next = { x: before.x - (at.x - screen.width / 2) / zoom, y: before.y - (at.y - screen.height / 2) / zoom, zoom };
  return clampView(next, canvas, screen);
}

/** Moves the view as if the canvas were dragged by (dx, dy) screen pixels. */
export function panBy(view: View, screen: Size, canvas: Size, dx: number, dy: number): View {
  return clampView({ x: view.x - dx / view.zoom, y: view.y - dy / view.zoom, zoom: view.zoom }, canvas, screen);
}

/**
 * The view during a two-finger pinch that started at `start` with the fingers at `from`: the zoom
 * follows the change in finger distance and the canvas point under the fingers' midpoint follows
 * the midpoint, so a pinch zooms and pans at once.
 */
export function pinchView(start: View, screen: Size, canvas: Size, from: readonly [Point, Point], to: readonly [Point, Point]): View {
  const d0 = Math.hypot(from[1].x - from[0].x, from[1].y - from[0].y);
  const d1 = Math.hypot(to[1].x - to[0].x, to[1].y - to[0].y);
  const factor = d0 > 0 && d1 > 0 ? d1 / d0 : 1;
  const m0 = { x: (from[0].x + from[1].x) / 2, y: (from[0].y + from[1].y) / 2 };
  const m1 = { x: (to[0].x + to[1].x) / 2, y: (to[0].y + to[1].y) / 2 };
  const zoomed = zoomAt(start, screen, canvas, m0, factor);
  return panBy(zoomed, screen, canvas, m1.x - m0.x, m1.y - m0.y);
}

/** Whether two views are the same. */
export function sameView(a: View, b: View): boolean {
  return a.x === b.x && a.y === b.y && a.zoom === b.zoom;
}
