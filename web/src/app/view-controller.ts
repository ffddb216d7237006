import type { Point } from "../protocol/line-pixels.js";
import { hasViewParams, viewFromParams, type ViewParams } from "./view-url.js";
import { clampView, fitView, panBy, pinchView, sameView, zoomAt, type Size, type View } from "./viewport.js";

const EMPTY: Size = { width: 0, height: 0 };

/**
 * The view of one screen onto one canvas, and every way it changes. It starts fitted (the whole
 * canvas shown) or at the view a link asked for, and stays fitted through canvas and screen
 * resizes until the user zooms or pans; after that only clamping touches it.
 */
export class ViewController {
  private view: View = { x: 0, y: 0, zoom: 1 };
  private canvas: Size = EMPTY;
  private screen: Size = EMPTY;
  private fitted: boolean;
  /** The link's view, applied once both sizes are known. */
  private requested: ViewParams | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(params: ViewParams = {}) {
    this.fitted = !hasViewParams(params);
    this.requested = this.fitted ? undefined : params;
  }

  /** The current view (meaningful once `ready`). */
  get current(): View {
    return this.view;
  }

  /** The canvas size in canvas pixels; 0×0 until the first Welcome. */
  get canvasSize(): Size {
    return this.canvas;
  }

  /** The screen size in CSS pixels; 0×0 until laid out. */
  get screenSize(): Size {
    return this.screen;
  }

  /** Whether both the canvas and the screen have a size, so the view means something. */
  get ready(): boolean {
    return this.canvas.width > 0 && this.canvas.height > 0 && this.screen.width > 0 && this.screen.height > 0;
  }

  /** Whether the view is the automatic whole-canvas fit (nothing to put in a link). */
  get isFitted(): boolean {
    return this.fitted;
  }

  /** Calls `listener` after every change of the view; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The canvas has (a new) size. */
  setCanvas(size: Size): void {
    if (size.width === this.canvas.width && size.height === this.canvas.height) return;
    this.canvas = { width: size.width, height: size.height };
    this.relayout();
  }

  /** The screen area has (a new) size in CSS pixels. */
  setScreen(size: Size): void {
    if (size.width === this.screen.width && size.height === this.screen.height) return;
    this.screen = { width: size.width, height: size.height };
    this.relayout();
  }

  /** Zooms by `factor` around screen point `at` (the cursor), or around the screen centre. */
  zoom(factor: number, at: Point = { x: this.screen.width / 2, y: this.screen.height / 2 }): void {
    if (this.ready) this.move(zoomAt(this.view, this.screen, this.canvas, at, factor));
  }

  /** Moves the view as if the canvas were dragged by (dx, dy) screen pixels. */
  pan(dx: number, dy: number): void {
    if (this.ready) this.move(panBy(this.view, this.screen, this.canvas, dx, dy));
  }

  /** Sets the view during a pinch that started at view `start` with the fingers at `from`. */
  pinch(start: View, from: readonly [Point, Point], to: readonly [Point, Point]): void {
    if (this.ready) this.move(pinchView(start, this.screen, this.canvas, from, to));
  }

  /** Centres the view on canvas point `p`, keeping the zoom (a minimap click). */
  centreOn(p: Point): void {
    if (this.ready) this.move({ x: p.x, y: p.y, zoom: this.view.zoom });
  }

  /** Shows the whole canvas again and follows resizes as at first load. */
  fit(): void {
    this.fitted = true;
    this.requested = undefined;
    this.relayout();
  }

  private move(next: View): void {
    this.fitted = false;
    this.update(clampView(next, this.canvas, this.screen));
  }

  private relayout(): void {
    if (!this.ready) return;
    const fitted = fitView(this.canvas, this.screen);
    if (this.requested) {
      const asked = viewFromParams(this.requested, fitted);
      this.requested = undefined;
      this.update(clampView(asked, this.canvas, this.screen));
    } else {
      this.update(this.fitted ? fitted : clampView(this.view, this.canvas, this.screen));
    }
  }

  private update(next: View): void {
    if (sameView(next, this.view)) return;
    this.view = next;
    for (const listener of this.listeners) listener();
  }
}
