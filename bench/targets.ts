import { fileURLToPath } from "node:url";
import type { Target } from "./load/bench-client.js";
import { startLegacy } from "./peers/legacy/launch.js";
import type { WatchedProcess } from "./proc-stats.js";
import type { MetricsEndpoint } from "./server-metrics.js";
import { startBenchRedis, type BenchRedisOptions } from "./redis-process.js";

/** A running system under test, either ours or the legacy peer, on its own Redis. */
export interface RunningTarget {
  target: Target;
  /** ws:// URLs clients spread over round robin: every gateway directly, or (ours, --entry haproxy) the one balancer front. */
  gatewayUrls: string[];
  /** Every server process including Redis, for CPU and RSS. */
  processes: WatchedProcess[];
  redisUrl: string;
  /** Ours: the balancer's public origin (`/ws`, `/api/...`, as a browser reaches the system); legacy: undefined. */
  frontUrl?: string;
  /** Ours: each canvas replica's internal gRPC URL (h2c), for admin calls and bulk writes; legacy: none. */
  canvasUrls: string[];
  /** /metrics of every replica that has one (ours only), for per-hop latency. */
  metrics: MetricsEndpoint[];
  stop(): Promise<void>;
}

/** How to start a target. */
export interface TargetOptions {
  gateways: number;
  /** Canvas replicas (ours) or REST API processes (legacy: always 1). */
  canvases: number;
  width: number;
  height: number;
  redis: BenchRedisOptions;
  /** Extra environment for our services, e.g. PIXELS_PER_SECOND. */
  env: Record<string, string>;
  /** How our gateways reach the canvas replicas: direct (like a Kubernetes Service, no proxy hop) or through haproxy. */
  canvasRouting: "direct" | "balancer";
  /** How clients reach our gateways: directly, or through the cluster's haproxy /ws front. */
  entry: "direct" | "haproxy";
  /** When set, every server process writes a V8 CPU profile into this directory on exit. */
  profileDir?: string;
}

const PROFILER = fileURLToPath(new URL("./profiler-preload.js", import.meta.url));

function profileEnv(dir: string | undefined): Record<string, string> {
  return dir ? { BENCH_PROFILE_DIR: dir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${PROFILER}`.trim() } : {};
}

/**
 * Starts Redis, then the target's processes on it: for ours, tools/cluster's
 * startCluster (canvas and gateway replicas, no web); for legacy, the peer launcher.
 */
export async function startTarget(target: Target, o: TargetOptions): Promise<RunningTarget> {
  const redis = await startBenchRedis(o.redis);
  const redisProc: WatchedProcess = { role: "redis", pid: redis.pid };
  try {
    if (target === "legacy") {
      const legacy = await startLegacy({ redisUrl: redis.url, gateways: o.gateways, width: o.width, height: o.height, env: profileEnv(o.profileDir) });
      return {
        target,
        gatewayUrls: legacy.gatewayUrls,
        processes: [redisProc, ...legacy.processes],
        redisUrl: redis.url,
        canvasUrls: [],
        metrics: [],
        async stop() {
          await legacy.stop();
          await redis.stop();
        },
      };
    }
    const { startCluster } = await import("../tools/cluster/cluster.js");
    const cluster = await startCluster({
      gateways: o.gateways,
      canvases: o.canvases,
      web: false,
      redisUrl: redis.url,
      canvasRouting: o.canvasRouting,
      // Every load client connects from 127.0.0.1: a per-network placement budget would make all of
      // them one network, so it is off (IP_BUDGET_FACTOR=0); each connection keeps its own per-person budget.
      env: { CANVAS_WIDTH: String(o.width), CANVAS_HEIGHT: String(o.height), LOG_LEVEL: "warn", IP_BUDGET_FACTOR: "0", ...o.env, ...profileEnv(o.profileDir) },
    });
    const processes: WatchedProcess[] = [redisProc];
    for (const c of cluster.canvases) if (c.pid) processes.push({ role: c.id, pid: c.pid });
    for (const g of cluster.gateways) if (g.pid) processes.push({ role: g.id, pid: g.pid });
    if (cluster.haproxy.pid) processes.push({ role: "haproxy", pid: cluster.haproxy.pid });
    return {
      target,
      gatewayUrls: o.entry === "haproxy" ? [cluster.wsUrl] : cluster.gateways.map((g) => `ws://127.0.0.1:${g.port}/ws`),
      processes,
      redisUrl: redis.url,
      frontUrl: cluster.url,
      canvasUrls: cluster.canvases.map((c) => `http://127.0.0.1:${c.port}`),
      metrics: [
        ...cluster.gateways.map((g) => ({ role: g.id, url: `http://127.0.0.1:${g.port}/metrics` })),
        ...cluster.canvases.map((c) => ({ role: c.id, url: `http://127.0.0.1:${c.httpPort}/metrics` })),
      ],
      async stop() {
        await cluster.stop();
        await redis.stop();
      },
    };
  } catch (err) {
    await redis.stop();
    throw err;
  }
}
