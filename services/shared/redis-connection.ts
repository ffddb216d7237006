import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { parseRedisNodes, type RedisTarget } from "./config.js";

export type { RedisTarget, WaitPolicy } from "./config.js";

/**
 * The one place that knows Redis's two modes (see RedisTarget in config.ts): every other file asks
 * it for a client, a sharded subscriber or the publish command, and gets one interface for both.
 */

/** A command connection of either mode: ioredis gives both the same command methods. */
export type RedisClient = Redis | Cluster;


/** A single-mode target for a URL (tests and tools that start one redis-server). */
export function singleRedis(url: string): RedisTarget {
  return { mode: "single", url };
}

/** A cluster-mode target for `host:port` seeds. */
export function clusterRedis(seeds: readonly string[]): RedisTarget {
  return { mode: "cluster", nodes: parseRedisNodes(seeds.join(","), "cluster seeds") };
}

/** What a caller may pass for Redis: a target, or a URL meaning one server. */
export type RedisEndpoint = RedisTarget | string;

function toTarget(endpoint: RedisEndpoint): RedisTarget {
  return typeof endpoint === "string" ? singleRedis(endpoint) : endpoint;
}

/** True when the endpoint is a Redis Cluster. */
export function isCluster(endpoint: RedisEndpoint): boolean {
  return toTarget(endpoint).mode === "cluster";
}

/**
 * How often a cluster client re-reads the slot map on its own, besides after MOVED or a lost node:
 * a failover is noticed within this even by a client that sent nothing to the failed shard.
 */
const SLOTS_REFRESH_INTERVAL_MS = 500;

/**
 * Cluster options that keep a single connection's behaviour: `options` apply to every node
 * connection; offline queue and reconnection follow the same settings (a Cluster reconnects as a
 * whole through clusterRetryStrategy). `sharded` makes SSUBSCRIBE use one subscriber per shard.
 */
function clusterOptions(options: RedisOptions, sharded: boolean, password: string | undefined): ClusterOptions {
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...perNode } = options;
  return {
    redisOptions: password === undefined ? perNode : { ...perNode, password },
    lazyConnect: lazyConnect ?? false,
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: retryStrategy ?? undefined,
    slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
    shardedSubscribers: sharded,
    // A command is retried inside the client only while a failover settles, well within a write attempt.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    maxRedirections: 8,
  };
}

/** Opens a command connection of the target's mode with these options (ioredis's per-connection ones). */
export function createRedisClient(endpoint: RedisEndpoint, options: RedisOptions = {}): RedisClient {
  const target = toTarget(endpoint);
  if (target.mode === "single") return new Redis(target.url, options);
  return new Cluster(target.nodes, clusterOptions(options, false, target.password));
}

/**
 * Opens a Cluster client whose SSUBSCRIBEs go to one dedicated subscriber connection per shard
 * (ioredis `shardedSubscribers`); cluster mode only.
 */
export function createShardedSubscriber(endpoint: RedisEndpoint, options: RedisOptions = {}): Cluster {
  const target = toTarget(endpoint);
  if (target.mode !== "cluster") throw new Error("sharded Pub/Sub needs a Redis Cluster target");
  return new Cluster(target.nodes, clusterOptions(options, true, target.password));
}

/**
 * The command the Lua scripts publish batches with: PUBLISH on one Redis, SPUBLISH on a cluster,
 * so a canvas's batches stay on the shard that owns its slot instead of reaching every node.
 */
export function publishCommand(endpoint: RedisEndpoint): "PUBLISH" | "SPUBLISH" {
  return toTarget(endpoint).mode === "cluster" ? "SPUBLISH" : "PUBLISH";
}

/** A short description for logs: the URL or the seed list. */
export function describeRedis(endpoint: RedisEndpoint): string {
  const target = toTarget(endpoint);
  return target.mode === "single" ? target.url : `cluster ${target.nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
}
