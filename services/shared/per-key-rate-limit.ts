/** Above this many tracked keys, keys whose window has passed are dropped, so a spray of addresses cannot grow memory without bound. */
const PRUNE_ABOVE_KEYS = 10_000;

/**
 * Counts events per key (a client address) in fixed windows: at most `limit` per `windowMs`.
 * Fixed windows are coarse (up to twice the limit across a boundary) but need one number per key.
 */
export class PerKeyRateLimit {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one event for `key`; returns 0 when allowed, else the milliseconds until the key may try again. */
  take(key: string, now: number = Date.now()): number {
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= this.windowMs) {
      if (w === undefined && this.windows.size >= PRUNE_ABOVE_KEYS) this.prune(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= this.limit) return w.start + this.windowMs - now;
    w.count++;
    return 0;
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
  }
}
