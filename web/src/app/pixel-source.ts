import type { CanvasClient } from "../protocol/canvas-client.js";
import type { CanvasChange } from "../protocol/canvas-client-types.js";
import type { Rect } from "../protocol/rect.js";
import type { Size } from "./viewport.js";

/**
 * Where the renderer gets canvas pixels from: the client's watched tiles (clientPixelSource), which
 * `want` chooses from the region on screen, each arrived tile reported as a changed region.
 */
export interface PixelSource {
  /** The canvas size in canvas pixels; 0×0 before anything is known. */
  size(): Size;
  /** Writes the RGBA of `rect` into `target`, row by row, `stride` pixels per target row. */
  read(rect: Rect, target: Uint8ClampedArray, stride: number): void;
  /** Calls `listener` when what the canvas shows changes; returns the unsubscribe function. */
  onChange(listener: (change: CanvasChange) => void): () => void;
  /** The region the screen shows now; a source that loads by region loads it first. */
  want(rect: Rect): void;
}

/** The tiled source: the client's CanvasState with its optimistic overlay, watching what is on screen. */
export function clientPixelSource(client: Pick<CanvasClient, "canvas" | "on" | "watchRegion">): PixelSource {
  return {
    size: () => ({ width: client.canvas.width, height: client.canvas.height }),
    read(rect, target, stride) {
      const canvas = client.canvas;
      for (let row = 0; row < rect.height; row++) {
        let o = row * stride * 4;
        for (let col = 0; col < rect.width; col++) {
          const c = canvas.colorAt(rect.x + col, rect.y + row);
          target[o] = c >> 16;
          target[o + 1] = (c >> 8) & 0xff;
          target[o + 2] = c & 0xff;
          target[o + 3] = 255;
          o += 4;
        }
      }
    },
    onChange: (listener) => client.on("canvas", listener),
    // The client debounces, so a pan sends one Watch once the view rests.
    want: (rect) => client.watchRegion(rect),
  };
}
