import { describe, expect, it } from "vitest";
import { budgetCapacity, decideRuns, scaleRule, takeBudget, type BudgetRule } from "./placement-budget.js";

const rate: BudgetRule = { kind: "rate", perSecond: 200, burst: 1000 };
const cooldown: BudgetRule = { kind: "cooldown", pixels: 1, cooldownMs: 5000 };

describe("takeBudget", () => {
  it("gives a missing (full) rate bucket its whole burst, then refuses with the refill time of the shortfall", () => {
    const full = takeBudget(rate, undefined, 1000, 0);
    expect(full).toMatchObject({ ok: true, state: { level: 0, time: 0 }, retryAfterMs: 0, ttlMs: 5000 });
    const refused = takeBudget(rate, full.state, 10, 20);
    // 4 tokens refilled in 20 ms; 6 more take 30 ms.
    expect(refused).toMatchObject({ ok: false, retryAfterMs: 30 });
    expect(takeBudget(rate, full.state, 10, 50).ok).toBe(true);
  });

  it("never refills a rate bucket above its burst, nor on a clock that steps back", () => {
    expect(takeBudget(rate, { level: 900, time: 0 }, 0, 10_000_000).state.level).toBe(1000);
    expect(takeBudget(rate, { level: 5, time: 1000 }, 0, 500).state.level).toBe(5);
  });

  it("gives a cooldown budget its pixels, then refuses until the cooldown after the first placement ends", () => {
    const first = takeBudget(cooldown, undefined, 1, 100);
    expect(first).toMatchObject({ ok: true, state: { level: 1, time: 100 }, ttlMs: 5000 });
    expect(takeBudget(cooldown, first.state, 1, 2100)).toMatchObject({ ok: false, retryAfterMs: 3000 });
    expect(takeBudget(cooldown, first.state, 1, 5100)).toMatchObject({ ok: true, state: { level: 1, time: 5100 } });
  });

  it("scales the allowance, not the cooldown, for the per-network budget", () => {
    expect(scaleRule(rate, 4)).toEqual({ kind: "rate", perSecond: 800, burst: 4000 });
    expect(scaleRule(cooldown, 4)).toEqual({ kind: "cooldown", pixels: 4, cooldownMs: 5000 });
    expect([budgetCapacity(rate), budgetCapacity(cooldown)]).toEqual([1000, 1]);
  });
});

describe("decideRuns", () => {
  it("accepts a run only when both its budgets hold it, charges neither when refused, and waits for the slower one", () => {
    const budgets = { user: { kind: "rate", perSecond: 10, burst: 10 } as BudgetRule, ip: { kind: "rate", perSecond: 10, burst: 12 } as BudgetRule };
    const runs = [
      { pixelCount: 8, userKey: "u:a", ipKey: "ip:1" },
      { pixelCount: 3, userKey: "u:a", ipKey: "ip:1" },
      { pixelCount: 5, userKey: "u:b", ipKey: "ip:1" },
      { pixelCount: 4, userKey: "u:b", ipKey: "ip:1" },
    ];
    const { retryAfterMs, writes } = decideRuns(budgets, runs, 0, () => undefined);
    // a: 8 fits (user 2 left, ip 4 left); 3 more exceed a's user budget (100 ms) -> refused.
    // b: 5 exceeds the network's 4 left (100 ms) -> refused; 4 fits both.
    expect(retryAfterMs).toEqual([0, 100, 100, 0]);
    expect(writes.get("u:a")?.state.level).toBe(2);
    expect(writes.get("u:b")?.state.level).toBe(6);
    expect(writes.get("ip:1")?.state.level).toBe(0);
  });
});
