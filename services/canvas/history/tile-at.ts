import { Code, ConnectError } from "@connectrpc/connect";
import { levelCount, tileRect, TILE_SIZE, type TileCoord } from "../../../protocol/tile-grid.js";
import type { PlacementLog } from "../../history/placement-log.js";
import type { CanvasInfo } from "../canvas-registry.js";
import type { CanvasStore } from "../canvas-store.js";
import { encodeTilePng } from "../tile-codec.js";
import { regionAt, type Moment } from "./canvas-at.js";
import { MAX_EXPORT_PIXELS } from "./history-settings.js";

/** A tile of any level at a past moment, PNG-encoded as GetTile serves tiles now. */
export interface PastTile {
  width: number;
  height: number;
  png: Uint8Array;
  seq: number;
  epoch: number;
}

/**
 * One tile at a moment of the current epoch: the level-0 pixels it covers are rebuilt from the log
 * (canvas-at.ts) and, above level 0, averaged 2^level x 2^level as the live tile pyramid averages
 * (so a past tile looks like the live one did). OutOfRange for a tile outside the canvas,
 * FailedPrecondition when the tile covers more than MAX_EXPORT_PIXELS level-0 pixels.
 */
export async function tileAt(store: CanvasStore, log: PlacementLog | undefined, canvas: CanvasInfo, level: number, coord: TileCoord, at: Moment): Promise<PastTile> {
  const rect = tileRect(canvas.width, canvas.height, level, coord);
  if (rect === undefined) {
    throw new ConnectError(`tile ${level}/${coord.tx}/${coord.ty} is outside canvas "${canvas.name}" (levels 0-${levelCount(canvas.width, canvas.height) - 1}, tiles of ${TILE_SIZE})`, Code.OutOfRange);
  }
  const scale = 2 ** level;
  const x = rect.x * scale;
  const y = rect.y * scale;
  const source = { x, y, width: Math.min(canvas.width - x, rect.width * scale), height: Math.min(canvas.height - y, rect.height * scale) };
  if (source.width * source.height > MAX_EXPORT_PIXELS) {
    throw new ConnectError(`a past tile of level ${level} covers more than ${MAX_EXPORT_PIXELS} pixels; read a lower level`, Code.FailedPrecondition);
  }
  const region = await regionAt(store, log, canvas, source, at);
  const pixels = scale === 1 ? region.pixels : boxAverage(region.pixels, source.width, source.height, scale, rect.width, rect.height);
  return { width: rect.width, height: rect.height, png: encodeTilePng(pixels, rect.width, rect.height, canvas.background), seq: region.seq, epoch: region.epoch };
}

/** Averages scale x scale blocks (clipped at the edges) of an RGB image into an outWidth x outHeight one. */
export function boxAverage(pixels: Uint8Array, width: number, height: number, scale: number, outWidth: number, outHeight: number): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight * 3);
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let y = oy * scale; y < Math.min(height, (oy + 1) * scale); y++) {
        for (let x = ox * scale; x < Math.min(width, (ox + 1) * scale); x++) {
          const o = (y * width + x) * 3;
          r += pixels[o]!;
          g += pixels[o + 1]!;
          b += pixels[o + 2]!;
          n++;
        }
      }
      const o = (oy * outWidth + ox) * 3;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
    }
  }
  return out;
}
