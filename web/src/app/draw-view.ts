import type { Rect } from "../protocol/rect.js";
import { canvasToScreen, type Size, type View } from "./viewport.js";

/** Zoom from which a faint grid separates the pixels, so single pixels are easy to aim at. */
export const GRID_MIN_ZOOM = 16;

/**
 * Draws one frame: only `visible` (the canvas pixels on screen) is copied from `image`, scaled
 * with nearest-neighbour sampling so pixels stay crisp at every zoom; `grid` adds the pixel grid
 * from GRID_MIN_ZOOM. `ctx` belongs to a canvas of screen×dpr device pixels.
 */
export function drawView(ctx: CanvasRenderingContext2D, image: CanvasImageSource, view: View, screen: Size, visible: Rect, dpr: number, grid: boolean): void {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  if (visible.width <= 0 || visible.height <= 0) return;
  const topLeft = canvasToScreen(view, screen, visible);
  const dx = topLeft.x * dpr;
  const dy = topLeft.y * dpr;
  const step = view.zoom * dpr;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, visible.x, visible.y, visible.width, visible.height, dx, dy, visible.width * step, visible.height * step);
  if (grid && view.zoom >= GRID_MIN_ZOOM) drawGrid(ctx, visible, dx, dy, step);
}

function drawGrid(ctx: CanvasRenderingContext2D, visible: Rect, dx: number, dy: number, step: number): void {
  ctx.beginPath();
  // Lines on the pixels' shared edges, half a device pixel in, so each is one device pixel wide.
  for (let i = 1; i < visible.width; i++) {
    const x = Math.round(dx + i * step) + 0.5;
    ctx.moveTo(x, dy);
    ctx.lineTo(x, dy + visible.height * step);
  }
  for (let j = 1; j < visible.height; j++) {
    const y = Math.round(dy + j * step) + 0.5;
    ctx.moveTo(dx, y);
    ctx.lineTo(dx + visible.width * step, y);
  }
  ctx.strokeStyle = "rgb(128 128 128 / 0.18)";
  ctx.lineWidth = 1;
  ctx.stroke();
}
