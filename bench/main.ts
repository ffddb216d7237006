/**
 * The benchmark harness: `npm run bench -- <scenario> [--flags]`. Starts Redis and
 * the target (ours or the legacy peer) as real processes, drives them from worker
 * threads, and writes JSON, a Markdown summary and an SVG latency chart to bench/results/.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseFlags, UsageError, type FlagDefaults } from "./flags.js";
import { summarizeProfileFile } from "./profile-summary.js";
import { LoadPool } from "./load/load-pool.js";
import type { Method, Target } from "./load/bench-client.js";
import type { BenchResult } from "./report/bench-result.js";
import { writeResults } from "./report/write-results.js";
import { collectRunInfo } from "./run-info.js";
import { bigCanvas } from "./scenarios/big-canvas.js";
import { connections } from "./scenarios/connections.js";
import { fanout } from "./scenarios/fanout.js";
import { join as joinScenario } from "./scenarios/join.js";
import { knee } from "./scenarios/knee.js";
import { COMMON_DEFAULTS, METHOD_DEFAULTS, type CommonFlags, type Scenario, type ScenarioContext } from "./scenarios/scenario.js";
import { seedStress } from "./scenarios/seed-stress.js";
import { startTarget } from "./targets.js";

const SCENARIOS: Array<Scenario<FlagDefaults>> = [seedStress, fanout, connections, knee, joinScenario, bigCanvas] as unknown as Array<Scenario<FlagDefaults>>;

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function usage(): string {
  const lines = ["Usage: npm run bench -- <scenario> [--flags]", "", "Scenarios:"];
  for (const s of SCENARIOS) lines.push(`  ${s.name.padEnd(12)} ${s.description}`);
  lines.push(
    "  table        every compared scenario under both methods, ≥ 3 alternating rounds: the README's performance table (about 70 min)",
    "  shards       stored pixels/s of many canvases on a 1-shard vs a 3-shard Redis Cluster, alternating rounds, and the ratio",
    "  rpc          GetCanvas/SetPixels over Connect, gRPC, gRPC-Web, ours vs @grpc/grpc-js",
    "  frame-cost   CPU to build one fan-out flush: JSON per pixel, protobuf per socket, ours (encode once, coalesced)",
    "  decode-cost  CPU a reader pays per delivered pixel: generated-code decode of our frames (with and without author runs) vs JSON.parse of legacy's, and the cores a load generator needs at --goal-rate",
    "  archiver     the history archiver at a sustained pixel rate: archive lag p99/max, and catch-up after --outage-seconds of database downtime",
    "  rollback     Rollback of a user's --placements (100,000) placements on a private Redis + PostgreSQL, timed end to end and checked pixel by pixel",
    "  export       ExportCanvas PNG of a --side (2048) canvas: read + encode, --rounds times, checked against the canvas",
    "  lookup       LookupPixel p99 on a placement log of --placements (10 million), and the log's size on disk per million placements",
    "  timelapse    a canvas with 1,000,000 placements; Chromium plays the web app's timelapse at 1x..1000x: fps (median, 1% low) and dropped frames",
    "  compare <scenario> [--rounds N] [--baseline-env NAME=VALUE,...]   legacy (or ours with those switches) and ours alternately, medians and ratios",
    "",
    "Flags (defaults of seed-stress; each scenario overrides some):",
  );
  for (const [k, v] of Object.entries({ ...COMMON_DEFAULTS, ...seedStress.defaults })) lines.push(`  --${k} ${JSON.stringify(v)}`);
  return lines.join("\n");
}

function parseEnvList(list: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!m) throw new UsageError(`--server-env needs NAME=VALUE[,NAME=VALUE], got "${pair}"`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** Runs one scenario against one target and writes its result files; returns their paths. */
export async function runScenario(argv: string[]): Promise<{ json: string; md: string; svg: string; result: BenchResult }> {
  const [name, ...rest] = argv;
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new UsageError(`unknown scenario "${name ?? ""}"\n\n${usage()}`);
  const { method } = parseFlags(rest, { ...COMMON_DEFAULTS, ...scenario.defaults });
  if (method !== "outsider" && method !== "scanner") throw new UsageError(`--method must be outsider or scanner, got "${method}"`);
  const flags = parseFlags(rest, { ...COMMON_DEFAULTS, ...scenario.defaults, ...METHOD_DEFAULTS[method], ...scenario.methodDefaults?.[method] } as FlagDefaults) as FlagDefaults & CommonFlags;
  if (flags.entry !== "direct" && flags.entry !== "haproxy") throw new UsageError(`--entry must be direct or haproxy`);
  if (flags.entry === "haproxy" && flags.target === "legacy") throw new UsageError(`--entry haproxy needs --target ours: the legacy peer has no balancer`);
  if (flags.target !== "ours" && flags.target !== "legacy") throw new UsageError(`--target must be ours or legacy, got "${flags.target}"`);
  if (flags["canvas-routing"] !== "direct" && flags["canvas-routing"] !== "balancer") throw new UsageError(`--canvas-routing must be direct or balancer`);
  if (!["always", "everysec", "no"].includes(flags.appendfsync)) throw new UsageError(`--appendfsync must be always, everysec or no`);
  const target = flags.target as Target;
  const run = await collectRunInfo(argv);
  const profileDir = flags.profile ? resolve(flags.out, "tmp", `profiles-${scenario.name}-${target}-${run.startedAt.replace(/[:.]/g, "-")}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  log(`${scenario.name} against ${target}: starting Redis and ${flags.gateways} gateway(s)`);
  const system = await startTarget(target, {
    gateways: flags.gateways,
    canvases: flags.canvases,
    width: flags.width,
    height: flags.height,
    redis: { appendonly: true, appendfsync: flags.appendfsync as "always" | "everysec" | "no" },
    env: { ...scenario.serverEnv?.(flags), ...parseEnvList(flags["server-env"]) },
    profileDir,
    canvasRouting: flags["canvas-routing"] as "direct" | "balancer",
    entry: flags.entry as "direct" | "haproxy",
  });
  let pool: LoadPool | undefined;
  let result: BenchResult | undefined;
  try {
    pool = await LoadPool.start(target, Math.max(1, Math.round(flags.workers)), { method: method as Method }, flags.width, flags.height);
    const processes = [...system.processes, { role: "load-generator", pid: process.pid }];
    const ctx: ScenarioContext<FlagDefaults> = { flags, system, pool, processes, log };
    const outcome = await scenario.run(ctx);
    result = {
      scenario: scenario.name,
      target,
      run,
      parameters: flags,
      headline: outcome.headline,
      generator: { workers: pool.size, pid: process.pid },
      phases: outcome.phases.filter((p) => p.name !== "warmup"),
      notes: outcome.notes,
    };
  } finally {
    await pool?.close();
    await system.stop();
  }
  if (profileDir) {
    // Profiles are written when the processes exit, so they are read after stop().
    const roles = new Map(system.processes.map((p) => [p.pid, p.role]));
    for (const file of readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"))) {
      const pid = Number(/^CPU\.(\d+)\./.exec(file)?.[1]);
      const s = summarizeProfileFile(join(profileDir, file), 8);
      result.notes.push(`profile ${roles.get(pid) ?? `pid ${pid}`} (${relative(flags.out, join(profileDir, file))}, ${s.totalMs} ms busy): ${s.functions.map((f) => `${f.selfPercent}% ${f.name}`).join("; ")}`);
    }
  }
  const paths = writeResults(result, flags.out);
  return { ...paths, result };
}

/** Commands that run on their own (no load scenario), each loaded only when asked for. */
type Standalone = (argv: string[], log: (m: string) => void) => Promise<unknown>;
const STANDALONE: Record<string, () => Promise<Standalone>> = {
  "frame-cost": async () => (await import("./micro/frame-cost.js")).runFrameCost,
  "decode-cost": async () => (await import("./micro/decode-cost.js")).runDecodeCost,
  shards: async () => (await import("./shards/shard-scaling.js")).runShardScaling,
  timelapse: async () => (await import("./timelapse/timelapse-bench.js")).runTimelapseBench,
  archiver: async () => (await import("./history/archiver-bench.js")).runArchiverBench,
  lookup: async () => (await import("./history/lookup-bench.js")).runLookupBench,
  rollback: async () => (await import("./history/rollback-bench.js")).runRollbackBench,
  export: async () => (await import("./history/export-bench.js")).runExportBench,
  rpc: async () => (await import("./rpc/rpc-bench.js")).runRpcBench,
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "help") {
    process.stdout.write(usage() + "\n");
    return;
  }
  if (argv[0] === "compare") {
    const { runCompare } = await import("./compare.js");
    const r = await runCompare(argv.slice(1), runScenario, log);
    process.stdout.write(`${JSON.stringify(r.result.medians)}\nwrote ${r.json}\nwrote ${r.md}\n`);
    return;
  }
  if (argv[0] === "table") {
    const { runTable } = await import("./table.js");
    process.stdout.write(`wrote ${await runTable(argv.slice(1), runScenario, log)}\n`);
    return;
  }
  const standalone = STANDALONE[argv[0]!];
  if (standalone !== undefined) {
    await (await standalone())(argv.slice(1), log);
    return;
  }
  const { json, md, result } = await runScenario(argv);
  process.stdout.write(`${JSON.stringify(result.headline)}\nwrote ${json}\nwrote ${md}\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`${err instanceof UsageError ? err.message : err.stack ?? err.message}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
