import { useEffect, useRef } from "preact/hooks";
import type { ViewController } from "./view-controller.js";
import { screenToCanvas } from "./viewport.js";

/** The minimap's longer side in CSS pixels. */
const MINIMAP_SIDE = 160;

/** Props of Minimap. */
export interface MinimapProps {
  /** The bitmap of the whole canvas (PixelSurface.image). */
  image: HTMLCanvasElement;
  controller: ViewController;
  /** Changes whenever the overview should be redrawn (pixels changed). */
  revision: number;
}

/**
 * A small overview of the whole canvas with the part on screen outlined; pressing or dragging on
 * it centres the view there. Hidden while the whole canvas is on screen, where it adds nothing.
 */
export function Minimap({ image, controller, revision }: MinimapProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { width, height } = controller.canvasSize;
  const scale = width > 0 && height > 0 ? MINIMAP_SIDE / Math.max(width, height) : 0;
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const screen = controller.screenSize;
  const a = screenToCanvas(controller.current, screen, { x: 0, y: 0 });
  const b = screenToCanvas(controller.current, screen, { x: screen.width, y: screen.height });
  const hidden = !controller.ready || (a.x <= 0 && a.y <= 0 && b.x >= width && b.y >= height);

  useEffect(() => {
    const el = ref.current;
    const ctx = el?.getContext("2d");
    if (!el || !ctx || image.width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    el.width = Math.round(w * dpr);
    el.height = Math.round(h * dpr);
    // Shrinking averages pixels into a fair overview; enlarging a small canvas keeps pixels sharp.
    ctx.imageSmoothingEnabled = scale * dpr < 1;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(image, 0, 0, el.width, el.height);
    // `hidden` too: the element is new each time the minimap reappears.
  }, [image, revision, w, h, scale, hidden]);

  if (hidden) return null;
  const left = Math.max(0, a.x) * scale;
  const top = Math.max(0, a.y) * scale;
  const right = Math.min(width, b.x) * scale;
  const bottom = Math.min(height, b.y) * scale;

  const jump = (e: PointerEvent): void => {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    controller.centreOn({ x: ((e.clientX - r.left) / r.width) * width, y: ((e.clientY - r.top) / r.height) * height });
  };

  return (
    <div
      class="minimap"
      data-testid="minimap"
      style={{ width: `${w}px`, height: `${h}px` }}
      aria-label="Overview: press to move the view there"
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        e.stopPropagation();
        (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
        jump(e);
      }}
      onPointerMove={(e) => {
        if ((e.currentTarget as HTMLElement).hasPointerCapture(e.pointerId)) jump(e);
      }}
    >
      <canvas ref={ref} class="minimap-image" style={{ width: `${w}px`, height: `${h}px` }} />
      <div class="minimap-view" style={{ left: `${left}px`, top: `${top}px`, width: `${Math.max(2, right - left)}px`, height: `${Math.max(2, bottom - top)}px` }} />
    </div>
  );
}
