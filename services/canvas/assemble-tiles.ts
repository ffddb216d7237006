import { parseTileName, tileRect } from "../../protocol/tile-grid.js";
import { backgroundTile, DEFAULT_BACKGROUND } from "./tile-codec.js";

/**
 * The whole canvas (row-major RGB) from its painted level-0 tiles, given as [tile name, packed RGB
 * of the tile's clipped size]; every pixel of a tile never painted is the background colour. A tile that does not
 * belong to this canvas's grid, or has the wrong length, is a storage fault and throws.
 */
export function assembleTiles(width: number, height: number, tiles: Iterable<readonly [string, Uint8Array]>, background: number = DEFAULT_BACKGROUND): Uint8Array {
  const out = backgroundTile(width, height, background);
  for (const [name, pixels] of tiles) {
    const coord = parseTileName(name);
    const rect = coord && tileRect(width, height, 0, coord);
    if (rect === undefined || pixels.length !== rect.width * rect.height * 3) {
      throw new Error(`stored tile ${name} (${pixels.length} bytes) does not fit the ${width}x${height} canvas`);
    }
    const rowBytes = rect.width * 3;
    for (let r = 0; r < rect.height; r++) {
      out.set(pixels.subarray(r * rowBytes, (r + 1) * rowBytes), ((rect.y + r) * width + rect.x) * 3);
    }
  }
  return out;
}

/** Copies a level-0 tile's pixels out of a whole canvas (row-major RGB), e.g. to split an old canvas into tiles. */
export function cutTile(canvas: Uint8Array, width: number, rect: { x: number; y: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(rect.width * rect.height * 3);
  const rowBytes = rect.width * 3;
  for (let r = 0; r < rect.height; r++) {
    const from = ((rect.y + r) * width + rect.x) * 3;
    out.set(canvas.subarray(from, from + rowBytes), r * rowBytes);
  }
  return out;
}
