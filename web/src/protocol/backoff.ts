import { BACKOFF_BASE_MS, MAX_BACKOFF_MS } from "./timing.js";

/**
 * Full-jitter exponential backoff: attempt n waits a uniform random time in
 * [0, min(MAX_BACKOFF_MS, BACKOFF_BASE_MS * 2^n)). Jitter spreads a crowd of clients that lost the
 * same gateway, so they do not all reconnect in the same millisecond.
 */
export function backoffDelayMs(attempt: number, random: () => number = Math.random, baseMs = BACKOFF_BASE_MS, maxMs = MAX_BACKOFF_MS): number {
  // Past 2^30 the ceiling is the cap anyway; clamping the exponent avoids Infinity.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * ceiling);
}
