import type { ClusterOptions } from "../../../tools/cluster/cluster-options.js";
import { startCluster, type Cluster } from "../../../tools/cluster/cluster.js";

/** Set CHAOS_KEEP_DIR=1 to keep each suite's cluster directory (process logs, AOF, haproxy.cfg) for inspection. */
export const KEEP_DIR_ENV = "CHAOS_KEEP_DIR";

/**
 * Starts the cluster a suite runs against (no web process: the suites speak /ws and /api
 * only). With CHAOS_KEEP_DIR=1 its directory survives the run and its path is printed.
 */
export async function startChaosCluster(options: Partial<ClusterOptions>): Promise<Cluster> {
  const keepDir = process.env[KEEP_DIR_ENV] === "1";
  const cluster = await startCluster({ web: false, ...options, keepDir });
  if (keepDir) process.stderr.write(`cluster directory (kept): ${cluster.dir}\n`);
  return cluster;
}
