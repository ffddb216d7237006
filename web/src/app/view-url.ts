import { MAX_ZOOM, type View } from "./viewport.js";

/** The largest canvas side the service allows (MAX_CANVAS_SIDE in services/shared/config.ts). */
const MAX_SIDE = 8192;
/** The smallest zoom a shared link may ask for; lower values come from hand-edited links. */
const MIN_URL_ZOOM = 0.01;

/** The parts of a view a link gave; each is absent when missing or invalid. */
export type ViewParams = Partial<View>;

function number(raw: string | null, min: number, max: number): number | undefined {
  // Number("") is 0 and Number(" 5") is 5: only plain decimal numbers count.
  if (raw === null || !/^-?\d+(\.\d+)?$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
}

/**
 * Reads `?x=&y=&zoom=` from a query string. A value that is missing, not a number or out of range
 * is left out (the caller falls back to the fitted view for it); the canvas size is not known yet,
 * so x and y are only bounded by the largest canvas and clamped later.
 */
export function parseViewParams(search: string): ViewParams {
  const q = new URLSearchParams(search);
  const params: ViewParams = {};
  const x = number(q.get("x"), 0, MAX_SIDE);
  const y = number(q.get("y"), 0, MAX_SIDE);
  const zoom = number(q.get("zoom"), MIN_URL_ZOOM, MAX_ZOOM);
  if (x !== undefined) params.x = x;
  if (y !== undefined) params.y = y;
  if (zoom !== undefined) params.zoom = zoom;
  return params;
}

/** Whether a link asked for any part of the view. */
export function hasViewParams(params: ViewParams): boolean {
  return params.x !== undefined || params.y !== undefined || params.zoom !== undefined;
}

function short(n: number, decimals: number): string {
  // toFixed then Number drops trailing zeros: 12.50 -> "12.5", 3.00 -> "3".
  return String(Number(n.toFixed(decimals)));
}

/**
 * The query string with the view written into `x`, `y` and `zoom` (or removed when `view` is
 * undefined: the fitted view needs no parameters), keeping every other parameter (the canvas itself is in the path, `/c/<name>`).
 */
export function withViewParams(search: string, view: View | undefined): string {
  const q = new URLSearchParams(search);
  if (view) {
    q.set("x", short(view.x, 2));
    q.set("y", short(view.y, 2));
    q.set("zoom", short(view.zoom, 3));
  } else {
    q.delete("x");
    q.delete("y");
    q.delete("zoom");
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The view a link asks for, filled in from `fallback` (the fitted view) where it gave nothing. */
export function viewFromParams(params: ViewParams, fallback: View): View {
  return { x: params.x ?? fallback.x, y: params.y ?? fallback.y, zoom: params.zoom ?? fallback.zoom };
}
