import { runPhase } from "../phase.js";
import { openSlowReaders } from "./slow-readers.js";
import { connectSteady, evenWriters, type Scenario } from "./scenario.js";

const defaults = {
  clients: 50,
  /** Aggregate pixels/s over all steady clients. */
  rate: 350,
  /** Churning clients opened per second (each reads, then leaves). */
  churn: 5,
  "churn-lifetime-ms": 4000,
  duration: 60,
  /** Extra clients that join and never read (stalled tabs); everyone else must not notice them. */
  "slow-readers": 0,
};

/** The stress test of the design being replaced: 50 steady clients, churn, ~350 px/s. */
export const seedStress: Scenario<typeof defaults> = {
  name: "seed-stress",
  description: "50 steady clients drawing ~350 px/s in total, 5 connects/s churn, 2 gateways, 60 s",
  defaults,
  async run(ctx) {
    const f = ctx.flags;
    const connectMs = await connectSteady(ctx, f.clients);
    ctx.log(`connected ${f.clients} clients in ${connectMs.toFixed(0)} ms`);
    const slow = f["slow-readers"] > 0 ? await openSlowReaders(ctx.system.gatewayUrls, f["slow-readers"], ctx.system.target) : undefined;
    const writers = evenWriters(f.clients, f.rate);
    const base = { writers, drainMs: f["drain-ms"], steadyReaders: f.clients, processes: ctx.processes, expectAcks: ctx.system.target === "ours", metrics: ctx.system.metrics };
    if (f["warmup-seconds"] > 0) await runPhase(ctx.pool, { ...base, name: "warmup", durationMs: f["warmup-seconds"] * 1000 });
    const churn = f.churn > 0 ? { urls: ctx.system.gatewayUrls, perSecond: f.churn, lifetimeMs: f["churn-lifetime-ms"], firstIndex: 1_000_000 } : undefined;
    const phase = await runPhase(ctx.pool, { ...base, name: `${f.rate} px/s`, durationMs: f.duration * 1000, churn });
    const slowClosed = slow?.closedByServer();
    slow?.stop();
    return {
      phases: [phase],
      headline: {
        p50Ms: phase.latency.p50Ms,
        p99Ms: phase.latency.p99Ms,
        p999Ms: phase.latency.p999Ms,
        pixelsLost: phase.lost,
        deliveryRatio: phase.deliveryRatio,
        churnConnects: phase.churnConnects,
      },
      notes: [
        `connected ${f.clients} steady clients in ${connectMs.toFixed(0)} ms`,
        ...(slow ? [`${f["slow-readers"]} slow readers (joined, never read); closed by the gateways, by close code: ${JSON.stringify(slowClosed)}`] : []),
      ],
    };
  },
};
