import { runPhase, type PhaseResult } from "../phase.js";
import { connectSteady, evenWriters, type Scenario } from "./scenario.js";

const defaults = {
  clients: 200,
  /**
   * One generator thread: on 2 cores a second one competes with the servers it measures. Measured in
   * one session (bench/results/knee-*-2026-11-22T02-06-*): with 2 threads both targets failed at
   * 100 px/s (legacy p99 399 ms); with 1, legacy held 337 px/s, as the reference says.
   */
  workers: 1,
  /** First aggregate rate, px/s. */
  "start-rate": 100,
  /** bisect: raise ×factor until a step fails, then halve the gap between the best pass and the lowest failure; ladder: ×factor until a step fails. */
  search: "bisect",
  /** Each rising step multiplies the rate by this. */
  factor: 2,
  /** bisect stops once (lowest failure - best pass) / best pass is at most this. */
  precision: 0.05,
  "max-rate": 100_000,
  "step-seconds": 15,
  /** A step fails when its p99 is above this. */
  "p99-limit-ms": 100,
  /** A step also fails when the generator fell this far behind its own schedule (it, not the system, is then the limit). */
  "max-send-lag-ms": 1000,
  /** A failed step is run again this many times before it counts as failed. */
  retries: 0,
};

/** Why a knee step did not hold, or undefined when it did. */
export function kneeFailure(p: PhaseResult, p99LimitMs: number, maxSendLagMs: number): string | undefined {
  if (p.lost > 0) return `${p.lost} pixel deliveries lost`;
  if (p.rejected > 0) return `${p.rejected} pixels refused (${JSON.stringify(p.errorsByCode)})`;
  if (p.latency.p99Ms > p99LimitMs) return `p99 ${p.latency.p99Ms} ms > ${p99LimitMs} ms`;
  if (p.maxSendLagMs > maxSendLagMs) return `load generator fell ${p.maxSendLagMs} ms behind schedule`;
  return undefined;
}

/** How the search picks its next rate. */
export interface KneeSearch {
  search: string;
  factor: number;
  precision: number;
  maxRate: number;
}

/**
 * The next rate to try given the best rate that held (0 if none) and the lowest that failed
 * (Infinity if none), or undefined when the search is over. Rates are whole px/s.
 */
export function nextKneeRate(held: number, failed: number, startRate: number, o: KneeSearch): number | undefined {
  if (held === 0) return failed === Infinity ? startRate : undefined;
  if (failed === Infinity) {
    const up = Math.round(held * o.factor);
    return up <= o.maxRate ? up : undefined;
  }
  if (o.search !== "bisect" || (failed - held) / held <= o.precision) return undefined;
  const mid = Math.round((held + failed) / 2);
  return mid > held && mid < failed ? mid : undefined;
}

/** Finds the highest pixel rate a fixed client count sustains with p99 within the limit and nothing lost. */
export const knee: Scenario<typeof defaults> = {
  name: "knee",
  description: "200 clients on 2 gateways; search the highest rate with p99 <= 100 ms and nothing lost",
  defaults,
  methodDefaults: {
    outsider: { "step-seconds": 15, search: "bisect", factor: 2, retries: 0 },
    // The command the figures quoted before issue 10 came from (bench/run-all.sh at that time).
    scanner: { "step-seconds": 6, search: "ladder", factor: 1.5, retries: 0, "warmup-seconds": 4 },
  },
  serverEnv: () => ({ PIXELS_PER_SECOND: "1000000", PIXEL_BURST: "1000000" }),
  async run(ctx) {
    const f = ctx.flags;
    if (f.search !== "bisect" && f.search !== "ladder") throw new Error(`--search must be bisect or ladder, got "${f.search}"`);
    const connectMs = await connectSteady(ctx, f.clients);
    ctx.log(`connected ${f.clients} clients in ${connectMs.toFixed(0)} ms`);
    const phaseOf = (rate: number, name: string, seconds: number) =>
      runPhase(ctx.pool, { name, writers: evenWriters(f.clients, rate), durationMs: seconds * 1000, drainMs: f["drain-ms"], steadyReaders: f.clients, processes: ctx.processes, expectAcks: ctx.system.target === "ours", metrics: ctx.system.metrics });
    if (f["warmup-seconds"] > 0) await phaseOf(f["start-rate"], "warmup", f["warmup-seconds"]);
    const phases: PhaseResult[] = [];
    const search: KneeSearch = { search: f.search, factor: f.factor, precision: f.precision, maxRate: f["max-rate"] };
    let held = 0;
    let heldSent = 0;
    let failed = Infinity;
    let lastFailure = "";
    for (let rate = nextKneeRate(held, failed, f["start-rate"], search); rate !== undefined; rate = nextKneeRate(held, failed, f["start-rate"], search)) {
      let failure: string | undefined;
      for (let attempt = 1; attempt <= f.retries + 1; attempt++) {
        const p = await phaseOf(rate, attempt > 1 ? `${rate} px/s (try ${attempt})` : `${rate} px/s`, f["step-seconds"]);
        phases.push(p);
        failure = kneeFailure(p, f["p99-limit-ms"], f["max-send-lag-ms"]);
        ctx.log(`${rate} px/s: p50 ${p.latency.p50Ms} ms, p99 ${p.latency.p99Ms} ms, lost ${p.lost}, ${failure ?? "held"}`);
        if (!failure) {
          held = rate;
          heldSent = p.sentPixelsPerSecond;
          break;
        }
      }
      if (failure) {
        failed = rate;
        lastFailure = failure;
      }
    }
    const stopReason = failed === Infinity ? `reached --max-rate ${f["max-rate"]}` : `${failed} px/s failed: ${lastFailure}`;
    return {
      phases,
      headline: {
        kneePixelsPerSecond: heldSent,
        failedAtPixelsPerSecond: failed === Infinity ? 0 : failed,
        stopReason,
        p99LimitMs: f["p99-limit-ms"],
        stepSeconds: f["step-seconds"],
      },
      notes: [
        f.search === "bisect"
          ? `steps of ${f["step-seconds"]} s after a ${f["warmup-seconds"]} s warm-up: from ${f["start-rate"]} px/s ×${f.factor} until a step failed, then bisection until the gap between the best pass and the lowest failure was ≤ ${f.precision * 100} %; the knee is the sent rate of the highest step that held`
          : `steps of ${f["step-seconds"]} s from ${f["start-rate"]} px/s, ×${f.factor} per step until one failed; the knee is the sent rate of the last step that held`,
        `a failed step was retried ${f.retries} time(s)`,
      ],
    };
  },
};
