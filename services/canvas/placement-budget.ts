/**
 * The fair-use rule of a canvas: how many pixels one person (user id) and one network (IP key)
 * may place. This file is the one description of the rule; the Redis store runs the same
 * arithmetic inside its write script (`BUDGET_LUA` in canvas-lua.ts, variable for variable), and
 * test-support/budget-contract.ts runs the same cases against both.
 */

/**
 * A budget rule. `rate`: a token bucket, `perSecond` pixels refill continuously up to `burst`.
 * `cooldown` (as r/place and Pxls): up to `pixels` pixels, then nothing until `cooldownMs` after the
 * first of them, when the allowance is whole again.
 */
export type BudgetRule =
  | { kind: "rate"; perSecond: number; burst: number }
  | { kind: "cooldown"; pixels: number; cooldownMs: number };

/**
 * What one budget key holds between placements. `rate`: `level` = tokens left at `time`.
 * `cooldown`: `level` = pixels used in the window that began at `time`. A missing key is a full
 * budget: keys expire exactly when they would be full again (see `BudgetTake.ttlMs`).
 */
export interface BudgetState {
  level: number;
  time: number;
}

/** The outcome of asking one budget for `count` pixels at `now`. */
export interface BudgetTake {
  /** True when the pixels fit; `state` is then the budget after taking them. */
  ok: boolean;
  /** The budget after the take (on success), or as it stands at `now` (on refusal, when nothing is stored). */
  state: BudgetState;
  /** On refusal: ms until the pixels would fit; 0 on success. */
  retryAfterMs: number;
  /** How long the stored state matters: after it the budget is full again and the key may vanish; at least 1. */
  ttlMs: number;
}

/** The most pixels one placement can ever take under `rule`; a bigger one is refused as invalid, not rate limited. */
export function budgetCapacity(rule: BudgetRule): number {
  return rule.kind === "rate" ? rule.burst : rule.pixels;
}

/** `rule` with `factor` times the allowance (the per-network budget is a multiple of the per-person one). */
export function scaleRule(rule: BudgetRule, factor: number): BudgetRule {
  return rule.kind === "rate"
    ? { kind: "rate", perSecond: rule.perSecond * factor, burst: rule.burst * factor }
    : { kind: "cooldown", pixels: rule.pixels * factor, cooldownMs: rule.cooldownMs };
}

/**
 * Asks one budget for `count` pixels at `now` (ms, integer). `stored` is the key's state, or
 * undefined for a missing (full) key. Pure: the caller stores `state` only when every budget of the
 * placement said ok.
 */
export function takeBudget(rule: BudgetRule, stored: BudgetState | undefined, count: number, now: number): BudgetTake {
  if (rule.kind === "rate") {
    let level = rule.burst;
    if (stored !== undefined) level = Math.min(rule.burst, stored.level + (Math.max(0, now - stored.time) * rule.perSecond) / 1000);
    if (count > level) {
      const retryAfterMs = Math.max(1, Math.ceil(((count - level) * 1000) / rule.perSecond));
      return { ok: false, state: { level, time: now }, retryAfterMs, ttlMs: 1 };
    }
    level -= count;
    const ttlMs = Math.max(1, Math.ceil(((rule.burst - level) * 1000) / rule.perSecond));
    return { ok: true, state: { level, time: now }, retryAfterMs: 0, ttlMs };
  }
  let used = 0;
  let start = now;
  if (stored !== undefined && now < stored.time + rule.cooldownMs) {
    used = stored.level;
    start = stored.time;
  }
  const ttlMs = Math.max(1, start + rule.cooldownMs - now);
  if (used + count > rule.pixels) return { ok: false, state: { level: used, time: start }, retryAfterMs: ttlMs, ttlMs };
  return { ok: true, state: { level: used + count, time: start }, retryAfterMs: 0, ttlMs };
}

/** A budget rule as the Lua script reads it from one ARGV: `r <perSecond> <burst>` or `c <pixels> <cooldownMs>`. */
export function encodeRuleArg(rule: BudgetRule | undefined): string {
  if (rule === undefined) return "";
  return rule.kind === "rate" ? `r ${rule.perSecond} ${rule.burst}` : `c ${rule.pixels} ${rule.cooldownMs}`;
}

/** The budgets a batch's runs are checked against (see budget-settings.ts `canvasBudget`). */
export interface RunBudgets {
  user: BudgetRule;
  /** Undefined: no per-network budget. */
  ip: BudgetRule | undefined;
}

/** One run of a batch with its budget keys resolved to store keys. */
export interface BudgetedRun {
  pixelCount: number;
  userKey: string;
  /** Undefined: the run has no per-network budget. */
  ipKey: string | undefined;
}

/** What checking a batch's runs decided: per run 0 (stored) or the wait; and the budget keys to store. */
export interface RunsDecision {
  retryAfterMs: number[];
  writes: Map<string, { state: BudgetState; ttlMs: number }>;
}

/**
 * Checks a batch's runs in order at one `now`: a run is accepted only if its user budget AND its
 * network budget both hold its pixels, and then both are charged; a refused run charges nothing and
 * gets the longer of the two waits. Runs of one person in one batch draw on the same budget in turn.
 * `read` gives a key's stored state (undefined: missing, i.e. full).
 */
export function decideRuns(budgets: RunBudgets, runs: readonly BudgetedRun[], now: number, read: (key: string) => BudgetState | undefined): RunsDecision {
  const writes = new Map<string, { state: BudgetState; ttlMs: number }>();
  const current = (key: string) => (writes.has(key) ? writes.get(key)!.state : read(key));
  const retryAfterMs = runs.map((run) => {
    const user = takeBudget(budgets.user, current(run.userKey), run.pixelCount, now);
    const ip = budgets.ip !== undefined && run.ipKey !== undefined ? takeBudget(budgets.ip, current(run.ipKey), run.pixelCount, now) : undefined;
    if (user.ok && (ip === undefined || ip.ok)) {
      writes.set(run.userKey, { state: user.state, ttlMs: user.ttlMs });
      if (ip !== undefined) writes.set(run.ipKey!, { state: ip.state, ttlMs: ip.ttlMs });
      return 0;
    }
    return Math.max(user.retryAfterMs, ip?.retryAfterMs ?? 0);
  });
  return { retryAfterMs, writes };
}
