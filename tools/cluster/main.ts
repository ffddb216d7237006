/**
 * `npm run cluster -- [flags]`: starts the local multi-replica cluster and keeps it up
 * until Ctrl-C (SIGINT) or SIGTERM, which stop every process and remove the temp dir.
 */
import { CLUSTER_USAGE, parseClusterArgs, UsageError } from "./cluster-options.js";
import { startCluster, type Cluster } from "./cluster.js";
import type { CrashReport } from "../process/managed-process.js";
import { describeRedis } from "../../services/shared/redis-connection.js";

function table(cluster: Cluster): string {
  const rows: string[][] = [["process", "pid", "ports", "log"]];
  const add = (id: string, pid: number | undefined, ports: string, log: string) => rows.push([id, String(pid ?? "-"), ports, log]);
  if (cluster.redis) add("redis", cluster.redis.pid, String(cluster.redis.port), cluster.redis.logFile);
  for (const n of cluster.redisCluster?.nodes ?? []) add(`redis-${n.port}`, n.pid, String(n.port), `${n.dir}/redis.log`);
  for (const c of cluster.canvases) add(c.id, c.pid, `h2 ${c.port}, http ${c.httpPort}`, c.logFile);
  for (const g of cluster.gateways) add(g.id, g.pid, `ws ${g.port}`, g.logFile);
  if (cluster.web) add("web", cluster.web.pid, String(cluster.web.port), cluster.web.logFile);
  if (cluster.archiver) add("archiver", cluster.archiver.pid, `probes ${cluster.archiver.port}`, cluster.archiver.logFile);
  add("haproxy", cluster.haproxy.pid, `front ${cluster.haproxy.port}`, cluster.haproxy.logFile);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ")).join("\n");
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseClusterArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${CLUSTER_USAGE}`);
    process.exit(2);
  }
  if (options === "help") {
    process.stdout.write(CLUSTER_USAGE);
    return;
  }
  const onCrash = (r: CrashReport) => {
    process.stderr.write(`\n!! ${r.name} (pid ${r.pid}) exited unexpectedly: code ${r.code}, signal ${r.signal}; log: ${r.logFile}\n`);
  };
  // Handlers go in before anything starts, so a Ctrl-C during start-up still cleans up.
  let cluster: Cluster | undefined;
  let stopRequested: string | undefined;
  const shutdown = (signal: string) => {
    if (stopRequested) return;
    stopRequested = signal;
    if (!cluster) return;
    process.stdout.write(`\n${signal}: stopping every process...\n`);
    cluster.stop().then(
      () => {
        process.stdout.write("stopped.\n");
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`stop failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.stdout.write(`starting ${options.canvases} canvas + ${options.gateways} gateway replicas...\n`);
  cluster = await startCluster(options, onCrash);
  if (stopRequested) {
    const signal = stopRequested;
    stopRequested = undefined;
    shutdown(signal);
    return;
  }
  process.stdout.write([
    "",
    table(cluster),
    "",
    `Redis:          ${describeRedis(cluster.redisTarget)}${options.redisUrl ? " (external)" : ` (AOF appendfsync ${options.appendfsync}${options.redisMode === "cluster" ? `; ${options.redisShards} primaries x ${options.redisReplicas} replicas` : ""})`}`,
    `canvas for gateways: ${cluster.canvasUrls.join(", ")} (${options.canvasRouting})`,
    `history:        ${cluster.historyDatabaseUrl ?? "off (--history postgres to keep a placement log)"}`,
    `haproxy stats:  ${cluster.statsUrl}`,
    `temp dir:       ${cluster.dir}${options.keepDir ? " (kept)" : " (removed on stop)"}`,
    "",
    `Open ${cluster.url}   (WebSocket ${cluster.wsUrl}, API ${cluster.url}/api/)`,
    "Ctrl-C stops everything.",
    "",
  ].join("\n"));
}

main().catch((err: Error) => {
  process.stderr.write(`cluster failed: ${err.message}\n`);
  process.exit(1);
});
