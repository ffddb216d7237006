import type { Point } from "../protocol/line-pixels.js";
import type { CanvasMode } from "./view-shortcuts.js";
import { ZOOM_STEP } from "./viewport.js";

/** Props of ViewToolbar. */
export interface ViewToolbarProps {
  mode: CanvasMode;
  zoom: number;
  /** The canvas pixel under the pointer, if any. */
  hover: Point | null;
  onMode: (mode: CanvasMode) => void;
  onZoom: (factor: number) => void;
  onFit: () => void;
}

/** Shows a zoom as a percentage: 1 screen pixel per canvas pixel is 100%. */
function zoomLabel(zoom: number): string {
  const percent = zoom * 100;
  return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}

/** Brush/hand/inspect switch, zoom buttons and the hovered coordinate, in a row above the canvas. */
export function ViewToolbar({ mode, zoom, hover, onMode, onZoom, onFit }: ViewToolbarProps) {
  return (
    <div class="view-toolbar" role="toolbar" aria-label="Canvas tools">
      <div class="tool-group" role="radiogroup" aria-label="Drag mode">
        <button type="button" role="radio" aria-checked={mode === "brush"} data-testid="mode-brush" title="Brush: drag paints (B)" onClick={() => onMode("brush")}>
          Brush
        </button>
        <button type="button" role="radio" aria-checked={mode === "hand"} data-testid="mode-hand" title="Hand: drag moves the view (H, or hold Space)" onClick={() => onMode("hand")}>
          Hand
        </button>
        <button type="button" role="radio" aria-checked={mode === "inspect"} data-testid="mode-inspect" title="Inspect: click a pixel to see who placed it and what was there before (I)" onClick={() => onMode("inspect")}>
          Inspect
        </button>
      </div>
      <div class="tool-group">
        <button type="button" title="Zoom out (-)" aria-label="Zoom out" onClick={() => onZoom(1 / ZOOM_STEP)}>
          −
        </button>
        <output class="zoom-level" data-testid="zoom-level" title="Zoom: screen pixels per canvas pixel">
          {zoomLabel(zoom)}
        </output>
        <button type="button" title="Zoom in (+)" aria-label="Zoom in" onClick={() => onZoom(ZOOM_STEP)}>
          +
        </button>
        <button type="button" title="Show the whole canvas (0)" data-testid="zoom-fit" onClick={onFit}>
          Fit
        </button>
      </div>
      <output class="hover-coordinate" data-testid="hover-coordinate" aria-label="Pixel under the pointer">
        {hover ? `x ${hover.x}  y ${hover.y}` : "x –  y –"}
      </output>
    </div>
  );
}
