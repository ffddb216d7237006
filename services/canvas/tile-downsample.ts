import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { backgroundTile, DEFAULT_BACKGROUND, type TilePixels } from "./tile-codec.js";

/** One of the four tiles of level k - 1 under a tile of level k, with its size. */
export interface ChildTile {
  /** 0 for the left (top) child, 1 for the right (bottom) one. */
  dx: 0 | 1;
  dy: 0 | 1;
  width: number;
  height: number;
  pixels: TilePixels;
}

/**
 * Builds a tile of level k (width x height) from its children of level k - 1: each pixel is the
 * average colour of the (up to) 2 x 2 pixels it covers. Averaging, rather than picking one pixel,
 * keeps a lone painted pixel visible as a tint when zoomed out. Resolves undefined when no child
 * was ever painted, so an empty region stays free; a child never painted is the background.
 */
export function downsampleTile(width: number, height: number, children: readonly ChildTile[], background: number = DEFAULT_BACKGROUND): TilePixels {
  if (children.every((c) => c.pixels === undefined)) return undefined;
  const out = backgroundTile(width, height, background);
  const half = TILE_SIZE / 2;
  for (const child of children) {
    if (child.pixels === undefined) continue;
    const src = child.pixels;
    const cw = child.width;
    for (let y = 0; y < Math.ceil(child.height / 2); y++) {
      const sy = y * 2;
      const rows = sy + 1 < child.height ? 2 : 1;
      for (let x = 0; x < Math.ceil(cw / 2); x++) {
        const sx = x * 2;
        const cols = sx + 1 < cw ? 2 : 1;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let j = 0; j < rows; j++) {
          for (let i = 0; i < cols; i++) {
            const o = ((sy + j) * cw + sx + i) * 3;
            r += src[o]!;
            g += src[o + 1]!;
            b += src[o + 2]!;
          }
        }
        const n = rows * cols;
        const o = ((child.dy * half + y) * width + child.dx * half + x) * 3;
        out[o] = Math.round(r / n);
        out[o + 1] = Math.round(g / n);
        out[o + 2] = Math.round(b / n);
      }
    }
  }
  return out;
}
