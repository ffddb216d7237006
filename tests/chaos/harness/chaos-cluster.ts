import type { ClusterOptions } from "../../../tools/cluster/cluster-options.js";
import { startCluster, type Cluster } from "../../../tools/cluster/cluster.js";

/** Side of the suites' canvases: large enough (262,144 pixels) that random placements rarely overwrite each other. */
export const CHAOS_CANVAS_SIDE = 512;

/** History the suites' canvas services keep: every batch of the longest full form, so the ack ledger can check each Ack against its batch. */
export const CHAOS_HISTORY_BATCHES = 200_000;

/** Set CHAOS_KEEP_DIR=1 to keep each suite's cluster directory (process logs, AOF, haproxy.cfg) for inspection. */
export const KEEP_DIR_ENV = "CHAOS_KEEP_DIR";

/**
 * Starts the cluster a suite runs against (no web process: the suites speak /ws and /api
 * only), with CHAOS_CANVAS_SIDE canvases and CHAOS_HISTORY_BATCHES of history unless the
 * options' env says otherwise. With CHAOS_KEEP_DIR=1 its directory survives the run and its
 * path is printed.
 */
export async function startChaosCluster(options: Partial<ClusterOptions>): Promise<Cluster> {
  const keepDir = process.env[KEEP_DIR_ENV] === "1";
  const side = String(CHAOS_CANVAS_SIDE);
  const env = { CANVAS_WIDTH: side, CANVAS_HEIGHT: side, CANVAS_HISTORY_BATCHES: String(CHAOS_HISTORY_BATCHES), ...options.env };
  const cluster = await startCluster({ web: false, ...options, env, keepDir });
  if (keepDir) process.stderr.write(`cluster directory (kept): ${cluster.dir}\n`);
  return cluster;
}
