/**
 * A token bucket that keeps a client under the gateway's per-connection pixel rate
 * (Welcome.pixels_per_second), so a fast drag is spread out instead of being refused.
 */
export class PixelPacer {
  private tokens: number;
  private last: number;

  /**
   * @param pixelsPerSecond sustained rate; tokens refill continuously at this rate.
   * @param burst bucket size; the gateway's own burst is at least this by default.
   * @param now clock in milliseconds (injectable for tests).
   */
  constructor(
    private pixelsPerSecond: number,
    private burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Changes the rate (after a Welcome), keeping the tokens already earned up to the new burst. */
  configure(pixelsPerSecond: number, burst: number): void {
    this.refill();
    this.pixelsPerSecond = pixelsPerSecond;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes up to `wanted` whole tokens and returns how many were granted. */
  take(wanted: number): number {
    this.refill();
    const granted = Math.max(0, Math.min(wanted, Math.floor(this.tokens)));
    this.tokens -= granted;
    return granted;
  }

  /** Gives back tokens for pixels that were granted but not sent (e.g. the connection dropped). */
  refund(count: number): void {
    this.tokens = Math.min(this.burst, this.tokens + count);
  }

  private refill(): void {
    const t = this.now();
    const elapsed = Math.max(0, t - this.last);
    this.last = t;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.pixelsPerSecond) / 1000);
  }
}
