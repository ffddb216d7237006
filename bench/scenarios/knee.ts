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
  /** Each step multiplies the rate by this. */
  factor: 1.5,
  "max-rate": 100_000,
  "step-seconds": 10,
  /** A step fails when its p99 is above this. */
  "p99-limit-ms": 100,
  /** A step also fails when the generator fell this far behind its own schedule (it, not the system, is then the limit). */
  "max-send-lag-ms": 1000,
  /** A failed step is run again this many times before the search stops (the machine is shared and noisy). */
  retries: 1,
};

/** Why a knee step did not hold, or undefined when it did. */
export function kneeFailure(p: PhaseResult, p99LimitMs: number, maxSendLagMs: number): string | undefined {
  if (p.lost > 0) return `${p.lost} pixel deliveries lost`;
  if (p.rejected > 0) return `${p.rejected} pixels refused (${JSON.stringify(p.errorsByCode)})`;
  if (p.latency.p99Ms > p99LimitMs) return `p99 ${p.latency.p99Ms} ms > ${p99LimitMs} ms`;
  if (p.maxSendLagMs > maxSendLagMs) return `load generator fell ${p.maxSendLagMs} ms behind schedule`;
  return undefined;
}

/** Raises the pixel rate with a fixed client count until p99 passes the limit or anything is lost. */
export const knee: Scenario<typeof defaults> = {
  name: "knee",
  description: "200 clients on 2 gateways; raise the rate step by step until p99 > 100 ms or a loss",
  defaults,
  serverEnv: () => ({ PIXELS_PER_SECOND: "1000000", PIXEL_BURST: "1000000" }),
  async run(ctx) {
    const f = ctx.flags;
    const connectMs = await connectSteady(ctx, f.clients);
    ctx.log(`connected ${f.clients} clients in ${connectMs.toFixed(0)} ms`);
    const phaseOf = (rate: number, name: string, seconds: number) =>
      runPhase(ctx.pool, { name, writers: evenWriters(f.clients, rate), durationMs: seconds * 1000, drainMs: f["drain-ms"], steadyReaders: f.clients, processes: ctx.processes, expectAcks: ctx.system.target === "ours", metrics: ctx.system.metrics });
    if (f["warmup-seconds"] > 0) await phaseOf(f["start-rate"], "warmup", f["warmup-seconds"]);
    const phases: PhaseResult[] = [];
    let sustained = 0;
    let stopReason = `reached --max-rate ${f["max-rate"]}`;
    let retriesLeft = f.retries;
    for (let rate = f["start-rate"]; rate <= f["max-rate"]; ) {
      const attempt = f.retries - retriesLeft + 1;
      const p = await phaseOf(rate, attempt > 1 ? `${rate} px/s (try ${attempt})` : `${rate} px/s`, f["step-seconds"]);
      phases.push(p);
      const failure = kneeFailure(p, f["p99-limit-ms"], f["max-send-lag-ms"]);
      ctx.log(`${rate} px/s: p50 ${p.latency.p50Ms} ms, p99 ${p.latency.p99Ms} ms, lost ${p.lost}, ${failure ?? "held"}`);
      if (failure) {
        if (retriesLeft-- > 0) continue;
        stopReason = `${rate} px/s failed ${f.retries + 1} time(s): ${failure}`;
        break;
      }
      sustained = p.sentPixelsPerSecond;
      retriesLeft = f.retries;
      rate = Math.round(rate * f.factor);
    }
    return {
      phases,
      headline: { kneePixelsPerSecond: sustained, stopReason, p99LimitMs: f["p99-limit-ms"] },
      notes: [`steps of ${f["step-seconds"]} s from ${f["start-rate"]} px/s, ×${f.factor} per step, a failed step retried ${f.retries} time(s); the knee is the sent rate of the last step that held`],
    };
  },
};
