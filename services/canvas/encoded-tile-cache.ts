/**
 * Encoded level-0 tiles, least recently used first out, bounded by the bytes of their PNGs. A key
 * names the tile's content exactly (canvas, shape, epoch, tile, version), so an entry never goes
 * stale: a repainted tile has a new version and therefore a new key, and the old entry ages out.
 */
export class EncodedTileCache {
  /** Insertion order is recency order: a hit is re-inserted at the end, eviction takes from the front. */
  private readonly entries = new Map<string, Uint8Array>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes of PNG held. */
  get bytes(): number {
    return this.total;
  }

  /** Number of tiles held. */
  get size(): number {
    return this.entries.size;
  }

  /** The PNG cached under `key`, now the most recently used, or undefined. */
  get(key: string): Uint8Array | undefined {
    const png = this.entries.get(key);
    if (png === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, png);
    return png;
  }

  /** Caches a PNG, evicting the least recently used over the byte bound; a PNG larger than the bound is not kept. */
  set(key: string, png: Uint8Array): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.total -= old.length;
    }
    if (png.length > this.maxBytes) return;
    this.entries.set(key, png);
    this.total += png.length;
    for (const [oldest, bytes] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= bytes.length;
    }
  }
}
