import type { Rect } from "../protocol/rect.js";
import { tileRect, tilesOfRect, type TileCoord } from "../../../protocol/tile-grid.js";
import { OVERVIEW_REREAD_MS } from "../protocol/timing.js";
import { canvasToScreen, type Size, type View } from "./viewport.js";

/**
 * The tile level a view draws from: 0 (full resolution, watched live) while a canvas pixel is at
 * least half a screen pixel, else the level whose pixels are about one screen pixel, so a
 * zoomed-out view reads a few downsampled tiles instead of every full-resolution one.
 */
export function overviewLevel(zoom: number, levelCount: number): number {
  if (!(zoom > 0) || zoom >= 0.5) return 0;
  return Math.max(0, Math.min(levelCount - 1, Math.floor(Math.log2(1 / zoom))));
}

interface OverviewTile {
  image: ImageBitmap | undefined;
  /** When it was last requested (ms, performance.now()). */
  requestedAt: number;
  loading: boolean;
}

/**
 * Overview tiles (levels above 0) for zoomed-out views: read over HTTP as images (the browser's
 * cache revalidates them by ETag), refreshed every OVERVIEW_REREAD_MS while on screen, and drawn
 * scaled to the view. They are not watched: an overview lags the canvas by up to that interval.
 */
export class OverviewLayer {
  private readonly tiles = new Map<string, OverviewTile>();

  constructor(
    /** The URL of one tile. */
    private readonly url: (level: number, tile: TileCoord) => string,
    /** A tile arrived, or one on screen is due for a refresh: draw a frame. */
    private readonly changed: () => void,
  ) {}

  /** Reads the tiles of `level` under `visible` (level-0 pixels) that are missing or stale; returns them. */
  show(level: number, visible: Rect, canvas: Size, now: number): TileCoord[] {
    const scale = 2 ** level;
    const x = Math.floor(visible.x / scale);
    const y = Math.floor(visible.y / scale);
    const rect = { x, y, width: Math.ceil((visible.x + visible.width) / scale) - x, height: Math.ceil((visible.y + visible.height) / scale) - y };
    const tiles = tilesOfRect(canvas.width, canvas.height, level, rect);
    for (const tile of tiles) {
      const key = `${level}/${tile.tx}/${tile.ty}`;
      const entry = this.tiles.get(key);
      if (entry && (entry.loading || now - entry.requestedAt < OVERVIEW_REREAD_MS)) continue;
      this.load(key, level, tile, entry, now);
    }
    return tiles;
  }

  /** Clears the screen and draws the loaded `tiles` of `level` where `view` shows them. */
  draw(ctx: CanvasRenderingContext2D, view: View, screen: Size, dpr: number, canvas: Size, level: number, tiles: readonly TileCoord[]): void {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.imageSmoothingEnabled = false;
    const scale = 2 ** level;
    for (const tile of tiles) {
      const image = this.tiles.get(`${level}/${tile.tx}/${tile.ty}`)?.image;
      const rect = tileRect(canvas.width, canvas.height, level, tile);
      if (!image || !rect) continue;
      // The last column and row of a level may stand for fewer canvas pixels than `scale` each.
      const x0 = rect.x * scale;
      const y0 = rect.y * scale;
      const width = Math.min(canvas.width, (rect.x + rect.width) * scale) - x0;
      const height = Math.min(canvas.height, (rect.y + rect.height) * scale) - y0;
      const at = canvasToScreen(view, screen, { x: x0, y: y0 });
      ctx.drawImage(image, at.x * dpr, at.y * dpr, width * view.zoom * dpr, height * view.zoom * dpr);
    }
  }

  private load(key: string, level: number, tile: TileCoord, entry: OverviewTile | undefined, now: number): void {
    const current: OverviewTile = entry ?? { image: undefined, requestedAt: now, loading: true };
    current.requestedAt = now;
    current.loading = true;
    this.tiles.set(key, current);
    fetch(this.url(level, tile))
      .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(`HTTP ${res.status}`))))
      .then((blob) => createImageBitmap(blob))
      .then(
        (image) => {
          current.image?.close();
          current.image = image;
        },
        // Kept as it was; the next refresh tries again.
        () => undefined,
      )
      .finally(() => {
        current.loading = false;
        this.changed();
        setTimeout(this.changed, OVERVIEW_REREAD_MS);
      });
  }
}
