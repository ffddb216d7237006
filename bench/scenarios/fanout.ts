import { runPhase } from "../phase.js";
import { connectSteady, evenWriters, type Scenario } from "./scenario.js";

const defaults = {
  clients: 2000,
  rate: 1000,
  /** Clients that draw (0 = all); the rate is spread evenly over them. */
  writers: 0,
  duration: 60,
  workers: 2,
  "connect-concurrency": 100,
};

/** Many readers: 2,000 clients on 2 gateways, 1,000 px/s in total. */
export const fanout: Scenario<typeof defaults> = {
  name: "fanout",
  description: "2,000 clients on 2 gateways, 1,000 px/s in total, 60 s",
  defaults: { ...defaults },
  async run(ctx) {
    const f = ctx.flags;
    const connectMs = await connectSteady(ctx, f.clients);
    ctx.log(`connected ${f.clients} clients in ${connectMs.toFixed(0)} ms`);
    const writers = evenWriters(f.writers > 0 ? Math.min(f.writers, f.clients) : f.clients, f.rate);
    const base = { writers, drainMs: f["drain-ms"], steadyReaders: f.clients, processes: ctx.processes, expectAcks: ctx.system.target === "ours", metrics: ctx.system.metrics };
    if (f["warmup-seconds"] > 0) await runPhase(ctx.pool, { ...base, name: "warmup", durationMs: f["warmup-seconds"] * 1000 });
    const phase = await runPhase(ctx.pool, { ...base, name: `${f.rate} px/s`, durationMs: f.duration * 1000 });
    return {
      phases: [phase],
      headline: {
        p50Ms: phase.latency.p50Ms,
        p99Ms: phase.latency.p99Ms,
        pixelsLost: phase.lost,
        deliveryRatio: phase.deliveryRatio,
        pixelDeliveriesPerSecond: phase.pixelDeliveriesPerSecond,
        framesPerSecond: phase.framesPerSecond,
      },
      notes: [`connected ${f.clients} clients in ${connectMs.toFixed(0)} ms`],
    };
  },
};
