import type { Rect } from "../protocol/rect.js";

/** What a PNG download shows: a rectangle (unset: the whole canvas), at a seq (unset: now). */
export interface ExportChoice {
  rect?: Rect;
  atSeq?: number;
}

/** The canvas service's PNG export route for `canvas`: `/api/export/<canvas>.png?x=&y=&w=&h=&seq=` (services/canvas/history/export-http-route.ts). */
export function exportUrl(canvas: string, choice: ExportChoice): string {
  const q = new URLSearchParams();
  if (choice.rect) {
    q.set("x", String(choice.rect.x));
    q.set("y", String(choice.rect.y));
    q.set("w", String(choice.rect.width));
    q.set("h", String(choice.rect.height));
  }
  if (choice.atSeq !== undefined) q.set("seq", String(choice.atSeq));
  const query = q.toString();
  return `/api/export/${encodeURIComponent(canvas)}.png${query ? `?${query}` : ""}`;
}

/** The file name a download is saved under: the canvas, the region and the seq it shows. */
export function exportFileName(canvas: string, choice: ExportChoice): string {
  const r = choice.rect;
  const region = r ? `-${r.x}_${r.y}_${r.width}x${r.height}` : "";
  const seq = choice.atSeq !== undefined ? `-seq${choice.atSeq}` : "";
  return `${canvas || "canvas"}${region}${seq}.png`;
}
