/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`. One token
 * is one pixel. A take either fits entirely or takes nothing, so a refused Place
 * costs the client nothing and nothing of it is stored.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number = Date.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Takes `count` tokens and returns true, or takes none and returns false. */
  take(count: number, now: number = Date.now()): boolean {
    this.refill(now);
    if (count > this.tokens) return false;
    this.tokens -= count;
    return true;
  }

  /** How long until `count` tokens are available (0 if they are now; never less than 1 otherwise). */
  waitMs(count: number, now: number = Date.now()): number {
    const missing = count - this.available(now);
    return missing <= 0 ? 0 : Math.max(1, Math.ceil((missing * 1000) / this.ratePerSecond));
  }

  /** Tokens available at `now` (fractional while refilling). */
  available(now: number = Date.now()): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    // A clock that steps backwards must not mint or burn tokens.
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
  }
}
