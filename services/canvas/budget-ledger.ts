import type { CanvasBudget } from "./budget-settings.js";
import { decideRuns, type BudgetState, type BudgetedRun } from "./placement-budget.js";
import { BUDGET_SWEEP_INTERVAL_MS } from "../shared/timing.js";

/**
 * The embedded store's budget keys: what Redis holds under `canvas:{id}:budget:*`, with the same
 * expiry (a key vanishes once its budget is full again, so a missing key means full).
 */
export class BudgetLedger {
  private readonly keys = new Map<string, { state: BudgetState; expiresAt: number }>();
  private lastSweep = 0;

  /** Decides a batch's runs (see `decideRuns`) at `now` and charges the accepted ones; returns the waits per run (0 = accepted). */
  decide(budget: CanvasBudget, runs: readonly BudgetedRun[], now: number = Date.now()): number[] {
    this.sweep(now);
    const { retryAfterMs, writes } = decideRuns(budget, runs, now, (key) => {
      const entry = this.keys.get(key);
      return entry !== undefined && entry.expiresAt > now ? entry.state : undefined;
    });
    for (const [key, write] of writes) this.keys.set(key, { state: write.state, expiresAt: now + write.ttlMs });
    return retryAfterMs;
  }

  /** A key's remaining life in ms at `now`, or -2 when it is missing or expired (as Redis PTTL answers). */
  ttlMs(key: string, now: number = Date.now()): number {
    const entry = this.keys.get(key);
    return entry === undefined || entry.expiresAt <= now ? -2 : entry.expiresAt - now;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < BUDGET_SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.keys) if (entry.expiresAt <= now) this.keys.delete(key);
  }
}
