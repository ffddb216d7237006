import { readProc, round } from "../proc-stats.js";
import { runPhase } from "../phase.js";
import { evenWriters, type Scenario } from "./scenario.js";

const defaults = {
  clients: 10_000,
  gateways: 1,
  workers: 2,
  "connect-concurrency": 200,
  /** Aggregate pixels/s of the trickle that shows the idle connections still work. */
  rate: 2,
  writers: 2,
  /** Seconds of trickle after everyone connected. */
  duration: 10,
  /** Pause after connecting before RSS is read, so allocation settles. */
  "settle-ms": 3000,
};

const KIB = 1024;

/** 10,000 mostly idle connections on one gateway: RSS per connection and time to connect them all. */
export const connections: Scenario<typeof defaults> = {
  name: "connections",
  description: "10,000 mostly idle connections on 1 gateway: RSS per connection, time to connect all",
  defaults,
  async run(ctx) {
    const f = ctx.flags;
    const gateways = ctx.processes.filter((p) => /gateway/.test(p.role));
    const generator = ctx.processes.find((p) => p.role === "load-generator")!;
    const rssOf = (pids: { pid: number }[]) => pids.reduce((a, p) => a + (readProc(p.pid)?.rssBytes ?? 0), 0);
    const before = rssOf(gateways);
    const generatorBefore = rssOf([generator]);
    const started = performance.now();
    const result = await ctx.pool.connect(0, f.clients, ctx.system.gatewayUrls, true, f["connect-concurrency"]);
    const connectMs = performance.now() - started;
    ctx.log(`connected ${result.ok} of ${f.clients} in ${connectMs.toFixed(0)} ms (${result.failed} failed${result.firstError ? `: ${result.firstError}` : ""})`);
    await new Promise((r) => setTimeout(r, f["settle-ms"]));
    const after = rssOf(gateways);
    const generatorAfter = rssOf([generator]);
    const perConnection = result.ok > 0 ? (after - before) / result.ok : 0;
    const writers = evenWriters(Math.min(f.writers, result.ok), f.rate);
    const phase = await runPhase(ctx.pool, { name: `idle + ${f.rate} px/s`, writers, durationMs: f.duration * 1000, drainMs: f["drain-ms"], steadyReaders: result.ok, processes: ctx.processes, expectAcks: ctx.system.target === "ours", metrics: ctx.system.metrics });
    return {
      phases: [phase],
      headline: {
        connected: result.ok,
        failed: result.failed,
        secondsToConnectAll: round(connectMs / 1000, 2),
        connectsPerSecond: round(result.ok / (connectMs / 1000), 0),
        gatewayRssBeforeMiB: round(before / KIB / KIB, 1),
        gatewayRssAfterMiB: round(after / KIB / KIB, 1),
        rssPerConnectionKiB: round(perConnection / KIB, 2),
        generatorRssPerConnectionKiB: round((generatorAfter - generatorBefore) / Math.max(1, result.ok) / KIB, 2),
        trickleP99Ms: phase.latency.p99Ms,
        tricklePixelsLost: phase.lost,
      },
      notes: [
        `RSS per connection = (gateway RSS ${f["settle-ms"]} ms after the last connect - RSS before the first) / connections, summed over ${gateways.length} gateway process(es)`,
        ...(result.firstError ? [`first connect error: ${result.firstError}`] : []),
      ],
    };
  },
};
