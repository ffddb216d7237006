import type { FlagDefaults } from "../flags.js";
import type { Method } from "../load/bench-client.js";
import type { LoadPool } from "../load/load-pool.js";
import type { WriterSpec } from "../load/worker-protocol.js";
import type { PhaseResult } from "../phase.js";
import type { WatchedProcess } from "../proc-stats.js";
import type { RunningTarget } from "../targets.js";

/** Flags every scenario takes, with their defaults. */
export const COMMON_DEFAULTS = {
  /** ours | legacy */
  target: "ours",
  /**
   * outsider: every reader decodes every frame with the generated code and times every delivery
   * (bench/README.md, "Two methods"); scanner: the in-place scanner, deliveries to other clients.
   */
  method: "outsider",
  gateways: 2,
  /** Canvas replicas of ours (the legacy peer always runs one REST API). */
  canvases: 1,
  /** Load-generator worker threads. */
  workers: 1,
  width: 50,
  height: 50,
  /** Directory for the result files. */
  out: "bench/results",
  /** Redis AOF fsync policy, the same for both targets. */
  appendfsync: "everysec",
  /** Longest wait for in-flight deliveries after the last send of a phase. */
  "drain-ms": 5000,
  /** Unmeasured load before the measured phase, to warm up JITs and connections; excluded from every figure. */
  "warmup-seconds": 10,
  /** Clients each worker connects at once. */
  "connect-concurrency": 50,
  /** Extra env for our services, comma-separated NAME=VALUE. */
  "server-env": "",
  /**
   * direct: gateway i talks to canvas replica i mod N, as through a Kubernetes Service (kernel
   * load balancing, no proxy process); balancer: through haproxy's TCP listener (one more hop).
   */
  "canvas-routing": "direct",
  /** How clients reach our gateways: direct (client i to gateway i mod N) or haproxy (the cluster's /ws front, round robin). */
  entry: "direct",
  /** Write a V8 CPU profile of every server process and put the hottest functions in the result. */
  profile: false,
} satisfies FlagDefaults;

/**
 * Defaults each method brings to every scenario; a flag given on the command line still wins.
 * `scanner` restores the settings the figures quoted before issue 10 were taken with.
 */
export const METHOD_DEFAULTS: Record<Method, FlagDefaults> = {
  outsider: { canvases: 1, "warmup-seconds": 10 },
  scanner: { canvases: 2, "warmup-seconds": 3 },
};

/** Common flags as parsed. */
export type CommonFlags = typeof COMMON_DEFAULTS;

/** What a scenario gets to work with. */
export interface ScenarioContext<F> {
  flags: F & CommonFlags;
  system: RunningTarget;
  pool: LoadPool;
  /** Server processes plus the generator itself. */
  processes: WatchedProcess[];
  log(message: string): void;
}

/** What a scenario hands back for the result file. */
export interface ScenarioOutcome {
  phases: PhaseResult[];
  headline: Record<string, number | string | boolean>;
  notes: string[];
}

/** One benchmark scenario. */
export interface Scenario<F extends FlagDefaults> {
  name: string;
  description: string;
  defaults: F;
  /** Defaults this scenario takes under each method, over METHOD_DEFAULTS (a flag still wins). */
  methodDefaults?: Partial<Record<Method, Partial<F & CommonFlags>>>;
  /** Environment our services need for this scenario (e.g. a higher per-connection rate limit). */
  serverEnv?(flags: F & CommonFlags): Record<string, string>;
  run(ctx: ScenarioContext<F>): Promise<ScenarioOutcome>;
}

/** Spreads an aggregate rate evenly over the first `writers` clients. */
export function evenWriters(writers: number, aggregate: number): WriterSpec[] {
  return Array.from({ length: writers }, (_, index) => ({ index, pixelsPerSecond: aggregate / writers }));
}

/** Connects `count` steady clients and throws with the first error if any failed. */
export async function connectSteady(ctx: ScenarioContext<unknown>, count: number): Promise<number> {
  const started = performance.now();
  const result = await ctx.pool.connect(0, count, ctx.system.gatewayUrls, true, ctx.flags["connect-concurrency"]);
  if (result.failed > 0) throw new Error(`${result.failed} of ${count} clients failed to connect; first error: ${result.firstError}`);
  return performance.now() - started;
}
