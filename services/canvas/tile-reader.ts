import { levelCount, parseTileName, tileName, tileRect, type TileCoord } from "../../protocol/tile-grid.js";
import { OVERVIEW_REFRESH_MS } from "../shared/timing.js";
import type { CanvasShape, CanvasStore, TileVersions } from "./canvas-store.js";
import { encodeTilePng, type TilePixels } from "./tile-codec.js";
import { downsampleTile, type ChildTile } from "./tile-downsample.js";
import { EncodedTileCache } from "./encoded-tile-cache.js";

/**
 * Bytes of encoded level-0 PNGs kept per canvas service. A join burst asks for a few dozen
 * distinct tiles (painted 256 x 256 tiles are tens of KiB each), so this holds every tile of a
 * busy canvas's hot area many times over while bounding memory however large the canvases are.
 */
export const LEVEL0_TILE_CACHE_BYTES = 32 * 1024 * 1024;

/** One tile of one level, PNG-encoded, with the stamps GetTile and the HTTP route send. */
export interface EncodedTile {
  level: number;
  tx: number;
  ty: number;
  width: number;
  height: number;
  png: Uint8Array;
  /** See GetTileResponse.seq: level 0 is consistent at it; overviews were built from versions read at it. */
  seq: number;
  epoch: number;
  /** See GetTileResponse.version. */
  version: number;
  canvasWidth: number;
  canvasHeight: number;
  levelCount: number;
}

/** A built overview tile: its pixels and the newest version of the level-0 tiles it was built from. */
interface Overview {
  pixels: TilePixels;
  version: number;
  png: Uint8Array | undefined;
}

interface OverviewEntry {
  epoch: number;
  /** The newest level-0 version under the tile when it was built. */
  version: number;
  builtAt: number;
  overview: Promise<Overview>;
}

/**
 * Reads tiles of canvases, each of its own registered size, for GetTile and the HTTP tile route. Level 0
 * first reads every tile's version with the seq (one cheap atomic read) and serves the PNG cached
 * under that exact version; only a miss reads the tile's bytes and encodes them, once however many
 * requests miss together, and caches the PNG (bounded by LEVEL0_TILE_CACHE_BYTES). Overviews (level > 0) are built on demand from the four tiles below, each level
 * halving the one below (`downsampleTile`), and cached with the newest level-0 version under them:
 * one atomic read of every tile's version tells which overviews changed, and only those are rebuilt.
 * The requested tile is rebuilt at most every OVERVIEW_REFRESH_MS, so a busy canvas costs a bounded
 * rebuild rate however many viewers ask; the tiles under it are rebuilt exactly whenever their
 * versions moved, so two builds with the same version (the newest level-0 version read) always
 * have the same pixels, and an ETag of epoch and version is sound. On demand rather than on a
 * timer, so canvases nobody zooms out of cost nothing; the cache holds at most a third as many
 * tiles as level 0 has, per canvas.
 */
export class TileReader {
  private readonly overviews = new Map<string, OverviewEntry>();
  private readonly level0: EncodedTileCache;
  /** Level-0 reads and encodes in flight, by the key they were missed under. */
  private readonly level0Pending = new Map<string, Promise<Level0Tile>>();

  constructor(
    private readonly store: CanvasStore,
    private readonly now: () => number = () => performance.now(),
    level0CacheBytes: number = LEVEL0_TILE_CACHE_BYTES,
  ) {
    this.level0 = new EncodedTileCache(level0CacheBytes);
  }

  /** The tile of a canvas of this (registered) shape, or undefined when the level or tile is outside the canvas. */
  async read(canvasId: string, shape: CanvasShape, level: number, tile: TileCoord): Promise<EncodedTile | undefined> {
    const rect = tileRect(shape.width, shape.height, level, tile);
    if (rect === undefined) return undefined;
    const common = { level, tx: tile.tx, ty: tile.ty, width: rect.width, height: rect.height, canvasWidth: shape.width, canvasHeight: shape.height, levelCount: levelCount(shape.width, shape.height) };
    if (level === 0) return { ...common, ...(await this.level0Tile(canvasId, shape, tile, rect)) };
    const versions = await this.store.tileVersions(canvasId);
    const built = await this.overview(canvasId, shape, versions, level, tile, true);
    built.png ??= encodeTilePng(built.pixels, rect.width, rect.height, shape.background);
    return { ...common, png: built.png, seq: versions.seq, epoch: versions.epoch, version: built.version };
  }

  /**
   * A level-0 tile from the cache when its version (read atomically with the seq) is cached: the
   * tile's last painting batch is then at or before that seq, so the cached bytes are exactly the
   * tile at it, and that seq is the stamp. Otherwise the tile is read and encoded, stamped with the
   * seq of its own atomic read, and cached under the version that read found.
   */
  private async level0Tile(canvasId: string, shape: CanvasShape, tile: TileCoord, rect: { width: number; height: number }): Promise<Level0Tile> {
    const versions = await this.store.tileVersions(canvasId);
    const version = versions.versions.get(tileName(tile)) ?? 0;
    const key = level0Key(canvasId, shape, versions.epoch, tile, version);
    const png = this.level0.get(key);
    if (png !== undefined) return { png, seq: versions.seq, epoch: versions.epoch, version };
    const pending = this.level0Pending.get(key);
    if (pending !== undefined) return pending;
    const read = this.store.getTile(canvasId, tile).then((snap) => {
      const encoded = encodeTilePng(snap.pixels, rect.width, rect.height, shape.background);
      this.level0.set(level0Key(canvasId, shape, snap.epoch, tile, snap.version), encoded);
      return { png: encoded, seq: snap.seq, epoch: snap.epoch, version: snap.version };
    });
    this.level0Pending.set(key, read);
    // A failed read (store unavailable) is not remembered: the next request tries again.
    const settled = () => {
      if (this.level0Pending.get(key) === read) this.level0Pending.delete(key);
    };
    read.then(settled, settled);
    return read;
  }

  /**
   * The overview tile, from the cache when it is current (or, when `mayLag`, younger than
   * OVERVIEW_REFRESH_MS), else rebuilt.
   */
  private overview(canvasId: string, shape: CanvasShape, versions: TileVersions, level: number, tile: TileCoord, mayLag: boolean): Promise<Overview> {
    const key = `${canvasId}/${level}/${tile.tx}/${tile.ty}`;
    const newest = newestVersionUnder(versions.versions, level, tile);
    const cached = this.overviews.get(key);
    if (cached && cached.epoch === versions.epoch && (cached.version === newest || (mayLag && this.now() - cached.builtAt < OVERVIEW_REFRESH_MS))) {
      return cached.overview;
    }
    if (newest === 0) {
      // Nothing painted under it: free to answer, so nothing is cached (and a first paint shows at once).
      this.overviews.delete(key);
      return Promise.resolve({ pixels: undefined, version: 0, png: undefined });
    }
    const overview = this.build(canvasId, shape, versions, level, tile);
    const entry = { epoch: versions.epoch, version: newest, builtAt: this.now(), overview };
    this.overviews.set(key, entry);
    // A failed build (store unavailable) is retried by the next request rather than cached.
    overview.catch(() => {
      if (this.overviews.get(key) === entry) this.overviews.delete(key);
    });
    return overview;
  }

  private async build(canvasId: string, shape: CanvasShape, versions: TileVersions, level: number, tile: TileCoord): Promise<Overview> {
    const rect = tileRect(shape.width, shape.height, level, tile)!;
    const children: Promise<ChildTile & { version: number }>[] = [];
    for (const dy of [0, 1] as const) {
      for (const dx of [0, 1] as const) {
        const child = { tx: tile.tx * 2 + dx, ty: tile.ty * 2 + dy };
        const childRect = tileRect(shape.width, shape.height, level - 1, child);
        if (childRect === undefined) continue;
        const read: Promise<{ pixels: TilePixels; version: number }> =
          level === 1 ? this.store.getTile(canvasId, child) : this.overview(canvasId, shape, versions, level - 1, child, false);
        children.push(read.then(({ pixels, version }) => ({ dx, dy, width: childRect.width, height: childRect.height, pixels, version })));
      }
    }
    const read = await Promise.all(children);
    return { pixels: downsampleTile(rect.width, rect.height, read, shape.background), version: Math.max(0, ...read.map((c) => c.version)), png: undefined };
  }
}

/** A level-0 PNG and its stamps: the bytes are exactly the tile at `seq`. */
interface Level0Tile {
  png: Uint8Array;
  seq: number;
  epoch: number;
  version: number;
}

/** Names a level-0 tile's bytes exactly: the shape is in it so a canvas re-created under the same id cannot be served an old PNG. */
function level0Key(canvasId: string, shape: CanvasShape, epoch: number, tile: TileCoord, version: number): string {
  return `${canvasId}/${shape.width}x${shape.height}/${shape.background ?? "default"}/${epoch}/${tile.tx}:${tile.ty}/${version}`;
}

/** The newest version among the level-0 tiles under a tile of `level` (0 when none was painted). */
function newestVersionUnder(versions: ReadonlyMap<string, number>, level: number, tile: TileCoord): number {
  const span = 2 ** level;
  let newest = 0;
  for (const [name, version] of versions) {
    const coord = parseTileName(name);
    if (coord && Math.floor(coord.tx / span) === tile.tx && Math.floor(coord.ty / span) === tile.ty && version > newest) newest = version;
  }
  return newest;
}
