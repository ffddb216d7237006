/**
 * Redis key and channel names for one canvas. The `{id}` hash tag keeps all of a
 * canvas's keys in one slot, so the Lua write script stays valid on Redis Cluster.
 */
export interface CanvasKeys {
  /**
   * Hash: tile name ("tx:ty", see tile-grid.ts) -> seq of the last batch that painted the tile.
   * A field exists exactly for the tiles ever painted in this epoch, each stored under
   * `tileKey` as a packed RGB string (row-major, 3 bytes per pixel, created white on first paint).
   */
  tiles: string;
  /** The packed RGB string of the whole canvas before tiles; read once to migrate it, then deleted. */
  legacyPixels: string;
  /** Hash: seq, epoch, width, height. */
  meta: string;
  /** Stream of recent batches (bounded history), entry id `<seq>-0`. */
  log: string;
  /** Pub/Sub channel on which every stored PixelBatch is published. */
  channel: string;
  /** Hash: gateway instance id -> encoded presence with an expiry. */
  presence: string;
  /**
   * Prefix of the placement budget keys: `<budget>u:<user key>` per person, `<budget>ip:<ip key>` per
   * network; each a string "<level> <time>" that expires when the budget is full again.
   */
  budget: string;
  /** Prefix of the undo allowance keys, `<restoreLimit><user id>`: restores so far in the window, expiring when it ends. */
  restoreLimit: string;
}

/** Returns the Redis names used for a canvas. */
export function canvasKeys(canvasId: string): CanvasKeys {
  const tag = `{${canvasId}}`;
  return {
    tiles: `canvas:${tag}:tiles`,
    legacyPixels: `canvas:${tag}:pixels`,
    meta: `canvas:${tag}:meta`,
    log: `canvas:${tag}:log`,
    channel: `canvas:${tag}:batches`,
    presence: `canvas:${tag}:presence`,
    budget: `canvas:${tag}:budget:`,
    restoreLimit: `canvas:${tag}:undo:`,
  };
}

/**
 * The key of one level-0 tile: the tile hash's name, ":" and the tile name, so the Lua scripts
 * derive it from KEYS and the tile stays in its canvas's slot.
 */
export function tileKey(canvasId: string, tx: number, ty: number): string {
  return `${canvasKeys(canvasId).tiles}:${tx}:${ty}`;
}

/**
 * Hash of every registered canvas: name -> JSON entry (services/canvas/canvas-registry.ts). One
 * global key, so on Redis Cluster the registry lives in one slot; each canvas's own keys keep
 * their `{id}` hash tag, and no script touches the registry and a canvas together.
 */
export const CANVAS_REGISTRY_KEY = "canvases";

/**
 * Hash of the bans in force: user id -> JSON ban (services/canvas/history/redis-ban-list.ts). One
 * global key in its own slot; no canvas script reads it (the canvas service checks bans before the
 * write script), so a canvas's keys never mix with it on Redis Cluster.
 */
export const BANS_KEY = "bans";

/** Channel on which a replica that changed BANS_KEY tells the others to reload it. */
export const BANS_CHANNEL = "bans:changed";
