import { convertIndexedToRgb, decode } from "fast-png";
import type { TileReader } from "./tile-copies.js";

/**
 * Reads level-0 tiles from the canvas service's HTTP route, `<base>/api/tiles/<canvas>/0/<tx>/<ty>.png`
 * (the page's own origin in the app, since every route to /api reaches the canvas service). The
 * `seq` query only keeps a cache from answering with a copy older than the watch needs; the
 * X-Canvas-Seq and X-Canvas-Epoch headers say what the tile really holds.
 */
export function httpTileReader(baseUrl: string, canvasId: () => string): TileReader {
  return async (tile, minSeq) => {
    const url = `${baseUrl.replace(/\/$/, "")}/api/tiles/${encodeURIComponent(canvasId())}/0/${tile.tx}/${tile.ty}.png?seq=${minSeq}`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`tile ${tile.tx}:${tile.ty}: HTTP ${res.status}`);
    const seq = res.headers.get("x-canvas-seq");
    const epoch = res.headers.get("x-canvas-epoch");
    if (seq === null || epoch === null) throw new Error(`tile ${tile.tx}:${tile.ty}: no X-Canvas-Seq/X-Canvas-Epoch`);
    return { seq: BigInt(seq), epoch: BigInt(epoch), rgb: decodeTileRgb(new Uint8Array(await res.arrayBuffer())) };
  };
}

/** Decodes a tile PNG (8-bit RGB, or indexed for a tile of one colour) to row-major RGB. */
export function decodeTileRgb(png: Uint8Array): Uint8Array {
  const image = decode(png);
  if (image.palette !== undefined) return convertIndexedToRgb(image);
  if (image.channels !== 3 || image.depth !== 8) throw new Error(`unexpected tile PNG: ${image.channels} channels of ${image.depth} bits`);
  return image.data instanceof Uint8Array ? image.data : Uint8Array.from(image.data);
}

/** The http(s) origin of a ws(s) URL: where the page's /api (and so the tiles) are served. */
export function httpBaseOf(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.origin;
}
