import type { SeqPosition } from "./batch-continuity.js";
import { scanBatch, type BatchHeader } from "./batch-scan.js";
import { TILE_SIZE, tilesOfRect, type PixelRect, type TileCoord } from "./tile-grid.js";

/**
 * The rules of protocol 2 (tiles): which tiles a client watches, which tiles a batch touches, and
 * how a client keeps each tile exact from an HTTP tile read plus the batches of its watch stream.
 * Shared by the gateway, the web client, the load generator and the tests.
 */

/**
 * The pixel protocol this code speaks: 2 = tiled (Welcome without pixels, Watch, tiles over HTTP);
 * 3 = 2 plus ServerFrame.acks (acks carried beside batches, coalesced per fan-out flush); 4 = 3
 * plus PixelBatch.columns (pixel-columns.ts: batches carry their pixels as packed columns).
 */
export const PIXEL_PROTOCOL = 4;

/** The oldest pixel protocol a gateway serves: a protocol 2 client gets one `ack` frame per Place. */
export const MIN_PIXEL_PROTOCOL = 2;

/** The first protocol whose clients read ServerFrame.acks. */
export const ACKS_PROTOCOL = 3;

/** The most tiles one Watch may name: 1024 tiles of 256 cover an 8192 × 8192 canvas. */
export const MAX_WATCHED_TILES = 1024;

/** A level-0 tile as one number, `ty * columns + tx`, for sets and maps. */
export function tileKey(tile: TileCoord, columns: number): number {
  return tile.ty * columns + tile.tx;
}

/** The keys of the level-0 tiles a binary PixelBatch touches, each once, in first-touched order. */
export function batchTileKeys(pixelBatch: Uint8Array, columns: number): number[] {
  return scanBatchTiles(pixelBatch, columns).tiles;
}

/**
 * A binary PixelBatch's header and the keys of the level-0 tiles it touches (as batchTileKeys), in
 * one pass: the gateway needs both for every published batch. Throws BatchScanError like scanBatch.
 */
export function scanBatchTiles(pixelBatch: Uint8Array, columns: number): { header: BatchHeader; tiles: number[] } {
  const tiles: number[] = [];
  let last = -1;
  const header = scanBatch(pixelBatch, (x, y) => {
    const key = Math.floor(y / TILE_SIZE) * columns + Math.floor(x / TILE_SIZE);
    // Strokes stay inside one tile for long runs: skip the includes() for those.
    if (key !== last && !tiles.includes(key)) tiles.push(key);
    last = key;
  });
  return { header, tiles };
}

/**
 * The level-0 tiles to watch for a view of `rect` (canvas pixels), or undefined when more than
 * MAX_WATCHED_TILES would be needed (a client that far out reads overview tiles and watches none).
 */
export function tilesToWatch(width: number, height: number, rect: PixelRect): TileCoord[] | undefined {
  const tiles = tilesOfRect(width, height, 0, rect);
  return tiles.length > MAX_WATCHED_TILES ? undefined : tiles;
}

/** A client's copy of one tile: being read over HTTP, or read and kept current at `seq`. */
export type TileCopy = { state: "loading" } | { state: "loaded"; seq: bigint; epoch: bigint };

/**
 * What a client does with a batch touching one of its tiles:
 * - `buffer`: the tile is still being read; keep the batch until the read lands;
 * - `apply`: the batch is newer than the tile: paint its pixels in this tile, the tile is now at batch.seq;
 * - `skip`: the tile already holds it (seq at or below the tile's), or it is from an older epoch;
 * - `refetch`: a newer epoch: the tile's history is gone; read it again.
 * A filtered stream has holes in seq by design, so the rule is "newer than the tile", not seq + 1;
 * the gateway, which sees the whole stream, is the one that checks seq + 1 (and resyncs).
 */
export function tileBatchAction(tile: TileCopy, batch: SeqPosition): "buffer" | "apply" | "skip" | "refetch" {
  if (tile.state === "loading") return "buffer";
  if (batch.epoch !== tile.epoch) return batch.epoch > tile.epoch ? "refetch" : "skip";
  return batch.seq > tile.seq ? "apply" : "skip";
}

/**
 * The buffered batches (in arrival = seq order) that still apply to a tile just read at `read`
 * (the X-Canvas-Seq and X-Canvas-Epoch of the tile response): those after it in its epoch.
 */
export function batchesAfterTileRead<B extends SeqPosition>(read: SeqPosition, buffered: readonly B[]): B[] {
  return buffered.filter((b) => b.epoch === read.epoch && b.seq > read.seq);
}

/**
 * Whether a tile read at `read` can serve a watch that took effect at `watching` (Watching.seq and
 * epoch): it must not be older, or batches in between would be missing. An older read (a cache
 * that served a stale copy) must be read again.
 */
export function tileReadServesWatch(read: SeqPosition, watching: SeqPosition): boolean {
  return read.epoch === watching.epoch ? read.seq >= watching.seq : read.epoch > watching.epoch;
}
