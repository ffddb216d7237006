/**
 * When the placement budget will hold a Place again, from the RATE_LIMITED errors' retry_after_ms.
 * Several refusals in a row keep the latest end, so the count never jumps back.
 */
export class Cooldown {
  private until = 0;

  /** A Place was refused; the budget holds it again `retryAfterMs` after `now`. */
  refused(retryAfterMs: number, now: number): void {
    if (retryAfterMs > 0) this.until = Math.max(this.until, now + retryAfterMs);
  }

  /** Milliseconds still to wait at `now`; 0 when placing is allowed. */
  remainingMs(now: number): number {
    return Math.max(0, this.until - now);
  }
}

/** What the indicator says for `remainingMs` still to wait: whole seconds, rounded up, so it never shows "wait 0 s". */
export function cooldownText(remainingMs: number): string {
  return `wait ${Math.ceil(remainingMs / 1000)} s`;
}
