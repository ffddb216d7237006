import type { CanvasChange } from "../protocol/canvas-client-types.js";
import { DirtyRegion, type Rect } from "../protocol/rect.js";
import type { PixelSource } from "./pixel-source.js";

/** Pixels copied per putImageData at most: bounds the scratch buffer, whatever the canvas size. */
const BAND_PIXELS = 64 * 1024;

/**
 * An offscreen copy of the canvas pixels, one bitmap pixel per canvas pixel, that frames draw from
 * with drawImage. Changes only mark regions stale; `sync` copies just those through one reused
 * scratch band (at most BAND_PIXELS), so neither a frame nor a batch allocates a canvas-sized
 * ImageData.
 */
export class PixelSurface {
  /** The bitmap to draw from (the screen view and the minimap). */
  readonly image: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private scratch: ImageData | undefined;
  private stale: Rect | "all" | undefined = "all";

  constructor(private readonly source: PixelSource) {
    this.image = document.createElement("canvas");
    this.image.width = 0;
    this.image.height = 0;
    const ctx = this.image.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas context");
    this.ctx = ctx;
  }

  /** Marks what `change` touched as stale. */
  invalidate(change: CanvasChange): void {
    if (change.full || this.stale === "all") {
      this.stale = "all";
      return;
    }
    const region = new DirtyRegion();
    for (const r of this.stale ? [this.stale, change.rect] : [change.rect]) {
      region.add(r.x, r.y);
      region.add(r.x + r.width - 1, r.y + r.height - 1);
    }
    this.stale = region.rect();
  }

  /** Brings the bitmap up to date with the source; returns whether anything was copied. */
  sync(): boolean {
    const { width, height } = this.source.size();
    if (width !== this.image.width || height !== this.image.height) {
      this.image.width = width;
      this.image.height = height;
      this.scratch = undefined;
      this.stale = "all";
    }
    const stale = this.stale;
    this.stale = undefined;
    if (!stale || width === 0 || height === 0) return false;
    const rect = stale === "all" ? { x: 0, y: 0, width, height } : clip(stale, width, height);
    if (rect.width <= 0 || rect.height <= 0) return false;
    const scratch = (this.scratch ??= new ImageData(width, Math.max(1, Math.min(height, Math.floor(BAND_PIXELS / width)))));
    for (let y = rect.y; y < rect.y + rect.height; y += scratch.height) {
      const band = { x: rect.x, y, width: rect.width, height: Math.min(scratch.height, rect.y + rect.height - y) };
      this.source.read(band, scratch.data, scratch.width);
      this.ctx.putImageData(scratch, band.x, band.y, 0, 0, band.width, band.height);
    }
    return true;
  }
}

function clip(r: Rect, width: number, height: number): Rect {
  const x = Math.max(0, r.x);
  const y = Math.max(0, r.y);
  return { x, y, width: Math.min(width, r.x + r.width) - x, height: Math.min(height, r.y + r.height) - y };
}
