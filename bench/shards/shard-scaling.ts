/**
 * `npm run bench -- shards [--flags]`: does write throughput scale with Redis Cluster shards?
 * Starts a 1-shard and an N-shard local Redis Cluster (each primary with one replica, AOF on),
 * then, alternately for `--rounds` rounds, drives the same multi-canvas write load (the canvas
 * service's SetPixels path, WAIT 1 included unless `--wait 0`) against each from `--workers`
 * processes, and reports stored pixels/s per round, the medians and their ratio. Canvases are
 * chosen so each shard owns the same number. Redis must be the bottleneck for the ratio to mean
 * anything: give the machine more cores than primaries + workers, and read `--workers` and the
 * load average in the result.
 */
import { fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster } from "ioredis";
import { startRedisCluster, type TestRedisCluster } from "../../tools/process/redis-cluster.js";
import { clusterRedis } from "../../services/shared/redis-connection.js";
import { canvasKeys } from "../../services/shared/redis-keys.js";
import { parseFlags } from "../flags.js";
import { collectRunInfo } from "../run-info.js";
import type { ShardLoadJob, ShardLoadReport } from "./shard-load-worker.js";

const DEFAULTS = {
  shards: 3,
  "canvases-per-shard": 16,
  side: 512,
  "pixels-per-batch": 200,
  concurrency: 32,
  workers: 2,
  "duration-ms": 10_000,
  rounds: 3,
  wait: 1,
  out: "bench/results",
};

/** One measured round. */
interface Round {
  shards: number;
  pixelsPerSecond: number;
  batches: number;
  errors: number;
}

/** Picks `perShard` canvas names owned by each primary of the cluster, so the load is even. */
async function evenCanvases(cluster: TestRedisCluster, perShard: number): Promise<string[]> {
  const client = new Cluster(cluster.seeds.map((s) => ({ host: "127.0.0.1", port: Number(s.split(":")[1]) })));
  try {
    await new Promise((resolve) => client.once("ready", resolve));
    const byOwner = new Map<string, string[]>();
    for (let i = 0; [...byOwner.values()].reduce((n, l) => n + l.length, 0) < perShard * client.nodes("master").length; i++) {
      const name = `shard-bench-${i}`;
      const slot = Number(await client.cluster("KEYSLOT", canvasKeys(name).meta));
      const owner = client.slots[slot]?.[0] ?? "?";
      const list = byOwner.get(owner) ?? [];
      if (list.length < perShard) list.push(name);
      byOwner.set(owner, list);
    }
    return [...byOwner.values()].flat();
  } finally {
    client.disconnect();
  }
}

/** Runs the load from `workers` processes at once and sums their reports. */
async function drive(job: ShardLoadJob, workers: number): Promise<ShardLoadReport> {
  const entry = new URL("./shard-load-worker.js", import.meta.url);
  const reports = await Promise.all(Array.from({ length: workers }, (_, w) => new Promise<ShardLoadReport>((resolve, reject) => {
    const child = fork(entry, [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    child.once("message", (m) => resolve(m as ShardLoadReport));
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`load worker ${w} exited with ${code}`))));
    // Each worker takes every canvas, starting at its own offset, so all canvases are busy.
    child.send({ ...job, canvases: [...job.canvases.slice(w), ...job.canvases.slice(0, w)] });
  })));
  const elapsed = Math.max(...reports.map((r) => r.elapsedMs));
  return reports.reduce((a, r) => ({ batches: a.batches + r.batches, pixels: a.pixels + r.pixels, errors: a.errors + r.errors, elapsedMs: elapsed }), { batches: 0, pixels: 0, errors: 0, elapsedMs: elapsed });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Runs the benchmark and writes `shards-<timestamp>.json` and `.md` under `--out`. */
export async function runShardScaling(argv: string[], log: (message: string) => void): Promise<void> {
  const f = parseFlags(argv, DEFAULTS);
  const run = await collectRunInfo(["shards", ...argv]);
  log(`starting a 1-shard and a ${f.shards}-shard Redis Cluster (one replica each)`);
  const one = await startRedisCluster({ shards: 1, replicasPerShard: 1 });
  let many: TestRedisCluster | undefined;
  const rounds: Round[] = [];
  try {
    many = await startRedisCluster({ shards: f.shards, replicasPerShard: 1 });
    const setups = [
      { shards: 1, cluster: one, canvases: await evenCanvases(one, f["canvases-per-shard"] * f.shards) },
      { shards: f.shards, cluster: many, canvases: await evenCanvases(many, f["canvases-per-shard"]) },
    ];
    for (let r = 0; r < f.rounds; r++) {
      // Alternate which goes first, so a drift of the machine's load favours neither.
      for (const setup of r % 2 === 0 ? setups : [...setups].reverse()) {
        const report = await drive({
          target: clusterRedis(setup.cluster.seeds), wait: { replicas: f.wait, timeoutMs: 1_000 }, canvases: setup.canvases, side: f.side,
          pixelsPerBatch: f["pixels-per-batch"], concurrency: f.concurrency, durationMs: f["duration-ms"],
        }, f.workers);
        const round = { shards: setup.shards, pixelsPerSecond: Math.round((report.pixels * 1000) / report.elapsedMs), batches: report.batches, errors: report.errors };
        rounds.push(round);
        log(`round ${r + 1}: ${setup.shards} shard(s): ${round.pixelsPerSecond} pixels/s (${round.batches} batches, ${round.errors} errors)`);
      }
    }
  } finally {
    await many?.stop();
    await one.stop();
  }
  const single = median(rounds.filter((r) => r.shards === 1).map((r) => r.pixelsPerSecond));
  const sharded = median(rounds.filter((r) => r.shards === f.shards).map((r) => r.pixelsPerSecond));
  const ratio = single === 0 ? 0 : Math.round((sharded / single) * 100) / 100;
  const result = { scenario: "shards", run, parameters: f, rounds, medians: { [`1`]: single, [String(f.shards)]: sharded }, ratio };
  mkdirSync(f.out, { recursive: true });
  const base = join(f.out, `shards-${run.startedAt.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(`${base}.md`, [
    `# shards: stored pixels/s on 1 vs ${f.shards} Redis Cluster shards`,
    "",
    `${run.command} at ${run.git.commit.slice(0, 7)}${run.git.dirty ? " (dirty)" : ""}; ${run.machine.cores} cores, load ${run.machine.loadAverage.join(" ")} at start`,
    `${f.shards * f["canvases-per-shard"]} canvases, ${f["pixels-per-batch"]} pixels per batch, ${f.workers} workers x ${f.concurrency} in flight, WAIT ${f.wait}, ${f["duration-ms"]} ms per round`,
    "",
    "| round | shards | pixels/s | batches | errors |",
    "|---|---|---|---|---|",
    ...rounds.map((r, i) => `| ${Math.floor(i / 2) + 1} | ${r.shards} | ${r.pixelsPerSecond} | ${r.batches} | ${r.errors} |`),
    "",
    `Median: 1 shard ${single} pixels/s, ${f.shards} shards ${sharded} pixels/s: **${ratio}x**.`,
    "",
  ].join("\n"));
  process.stdout.write(`1 shard ${single} pixels/s, ${f.shards} shards ${sharded} pixels/s: ${ratio}x\nwrote ${base}.json\nwrote ${base}.md\n`);
}
