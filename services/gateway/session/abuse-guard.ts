/** Malformed frames a connection may send before it is closed with 1008. */
export const MAX_MALFORMED_FRAMES = 16;

/**
 * Counts what a client's frames cost the gateway in refusals: malformed frames over the
 * connection's life, and refused frames per window. Each call answers whether the connection
 * has now gone over its limit (and must be closed with 1008), since every refusal costs an
 * Error frame however cheap the frame that caused it.
 */
export class AbuseGuard {
  private malformedCount = 0;
  private refusedCount = 0;
  private refusedWindowStart = 0;

  constructor(
    private readonly refusedMax: number,
    private readonly refusedWindowMs: number,
  ) {}

  /** Counts a malformed frame; true once MAX_MALFORMED_FRAMES were seen. */
  malformed(): boolean {
    return ++this.malformedCount >= MAX_MALFORMED_FRAMES;
  }

  /** Counts a refused frame at `now`; true when it is one more than refusedMax within the window. */
  refused(now: number): boolean {
    if (now - this.refusedWindowStart >= this.refusedWindowMs) {
      this.refusedWindowStart = now;
      this.refusedCount = 0;
    }
    return ++this.refusedCount > this.refusedMax;
  }
}
