/**
 * Redis key and channel names for one canvas. The `{id}` hash tag keeps all of a
 * canvas's keys in one slot, so the Lua write script stays valid on Redis Cluster.
 */
export interface CanvasKeys {
  /** Packed RGB string, row-major, 3 bytes per pixel. */
  pixels: string;
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
}

/** Returns the Redis names used for a canvas. */
export function canvasKeys(canvasId: string): CanvasKeys {
  const tag = `{${canvasId}}`;
  return {
    pixels: `canvas:${tag}:pixels`,
    meta: `canvas:${tag}:meta`,
    log: `canvas:${tag}:log`,
    channel: `canvas:${tag}:batches`,
    presence: `canvas:${tag}:presence`,
    budget: `canvas:${tag}:budget:`,
  };
}
