import { linePixels, type Point } from "../protocol/line-pixels.js";
import type { ViewController } from "./view-controller.js";
import { screenToCanvas, type View } from "./viewport.js";

/** One pointer event as the gestures need it: position in CSS pixels from the screen's top left. */
export interface PointerSample {
  id: number;
  x: number;
  y: number;
  /** 0 primary, 1 middle, 2 secondary (DOM PointerEvent.button). */
  button: number;
  /** A finger: its first pixel waits for a move or lift, as a second finger may make it a pinch. */
  touch?: boolean;
}

/** What the gestures need from the page. */
export interface GestureHost {
  /** Whether a primary drag pans rather than paints (hand mode, or space held). */
  panning(): boolean;
  /** Paints stroke pixels; false means refused (not live), which ends the stroke. */
  paint(points: readonly Point[]): boolean;
}

/** What the pointers are doing; each state carries only what it needs. */
type Gesture =
  | { kind: "idle" }
  | { kind: "press"; id: number; pixel: Point }
  | { kind: "stroke"; id: number; last: Point }
  | { kind: "pan"; id: number; at: Point }
  | { kind: "pinch"; ids: readonly [number, number]; start: View; from: readonly [Point, Point] };

/**
 * Turns pointer events into paint strokes, pans and pinches. One pointer paints (brush mode) or
 * pans (hand mode, space held, middle button, or a press beside the canvas); a second pointer turns
 * whatever the first was doing into a pinch that zooms and pans at once. A finger paints only once
 * it moves or lifts, so the first finger of a pinch leaves no stray pixel.
 */
export class PointerGestures {
  private gesture: Gesture = { kind: "idle" };
  private readonly pointers = new Map<number, Point>();

  constructor(
    private readonly view: ViewController,
    private readonly host: GestureHost,
  ) {}

  /** The state's name, for the cursor style and tests. */
  get kind(): Gesture["kind"] {
    return this.gesture.kind;
  }

  /** A pointer went down; returns whether the page should capture it. */
  down(p: PointerSample): boolean {
    if (p.button === 2) return false;
    this.pointers.set(p.id, { x: p.x, y: p.y });
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.entries()] as [[number, Point], [number, Point]];
      this.gesture = { kind: "pinch", ids: [a[0], b[0]], start: this.view.current, from: [a[1], b[1]] };
      return true;
    }
    if (this.pointers.size > 2 || this.gesture.kind !== "idle") return true;
    const pixel = this.pixel(p, false);
    if (p.button === 1 || this.host.panning() || !pixel) {
      this.gesture = { kind: "pan", id: p.id, at: { x: p.x, y: p.y } };
    } else if (p.touch) {
      this.gesture = { kind: "press", id: p.id, pixel };
    } else if (this.host.paint([pixel])) {
      this.gesture = { kind: "stroke", id: p.id, last: pixel };
    }
    return true;
  }

  /** A pointer moved; `samples` are the moves the browser coalesced into this one, oldest first. */
  move(p: PointerSample, samples: readonly PointerSample[] = []): void {
    if (!this.pointers.has(p.id)) return;
    this.pointers.set(p.id, { x: p.x, y: p.y });
    const pressed = this.gesture;
    if (pressed.kind === "press" && pressed.id === p.id) {
      this.gesture = this.host.paint([pressed.pixel]) ? { kind: "stroke", id: p.id, last: pressed.pixel } : { kind: "idle" };
    }
    const g = this.gesture;
    switch (g.kind) {
      case "idle":
      case "press":
        return;
      case "pan":
        if (g.id !== p.id) return;
        this.view.pan(p.x - g.at.x, p.y - g.at.y);
        g.at = { x: p.x, y: p.y };
        return;
      case "pinch": {
        const a = this.pointers.get(g.ids[0]);
        const b = this.pointers.get(g.ids[1]);
        if (a && b) this.view.pinch(g.start, g.from, [a, b]);
        return;
      }
      case "stroke": {
        if (g.id !== p.id) return;
        const points: Point[] = [];
        let last = g.last;
        for (const s of samples.length > 0 ? samples : [p]) {
          const q = this.pixel(s, true);
          if (!q || (q.x === last.x && q.y === last.y)) continue;
          points.push(...linePixels(last, q).slice(1));
          last = q;
        }
        if (points.length === 0) return;
        if (this.host.paint(points)) g.last = last;
        else this.gesture = { kind: "idle" };
        return;
      }
      default:
        g satisfies never;
    }
  }

  /** A pointer went up or was cancelled. */
  up(id: number): void {
    this.pointers.delete(id);
    const g = this.gesture;
    if (g.kind === "press" && g.id === id) this.host.paint([g.pixel]);
    const involved = g.kind === "pinch" ? g.ids.includes(id) : g.kind !== "idle" && g.id === id;
    // After a pinch the remaining finger does nothing until it lifts, so it cannot paint by accident.
    if (involved) this.gesture = { kind: "idle" };
  }

  /** The canvas pixel under a sample; `clamp` keeps a stroke that leaves the canvas on its edge. */
  private pixel(p: Point, clamp: boolean): Point | null {
    const { width, height } = this.view.canvasSize;
    if (!this.view.ready) return null;
    const c = screenToCanvas(this.view.current, this.view.screenSize, p);
    const x = Math.floor(c.x);
    const y = Math.floor(c.y);
    if (clamp) return { x: Math.min(width - 1, Math.max(0, x)), y: Math.min(height - 1, Math.max(0, y)) };
    return x >= 0 && y >= 0 && x < width && y < height ? { x, y } : null;
  }
}
