import { DEFAULT_CANVAS_ID } from "../../../services/shared/config.js";
import { canvasKeys } from "../../../services/shared/redis-keys.js";
import { waitFor } from "../../../tools/process/free-port.js";
import type { ClusterNode, TestRedisCluster } from "../../../tools/process/redis-cluster.js";
import { faultPhase, type FaultFigures, type FaultVictim } from "./backend-chaos.js";
import { startChaosCluster } from "./chaos-cluster.js";
import { Claims, type SuiteResult } from "./suite-result.js";

/** Parameters of the redis-failover suite. */
export interface RedisFailoverOptions {
  clients: number;
  gateways: number;
  canvases: number;
  /** Primaries of the Redis Cluster. */
  shards: number;
  /**
   * Replicas per primary. With WAIT 1, a shard accepts writes only while it has a replica to confirm
   * them: with 2, the remaining replica follows the promoted one at once and writes resume with the
   * promotion; with 1, only once the failed node is back as a replica.
   */
  replicas: number;
  /** Drawing before the kill. */
  warmupMs: number;
  /** Drawing after the failed node is back. */
  recoveryMs: number;
  /** Each client places one pixel this often. */
  drawIntervalMs: number;
  /** Writes must succeed again within this long of the kill. */
  resumeBoundMs: number;
  form: string;
}

/** The documented full form (npm run chaos -- redis-failover). */
export const REDIS_FAILOVER_FULL: RedisFailoverOptions = { clients: 50, gateways: 2, canvases: 2, shards: 3, replicas: 2, warmupMs: 5_000, recoveryMs: 10_000, drawIntervalMs: 100, resumeBoundMs: 5_000, form: "full" };
/**
 * The short form run by npm test. Like every short form it asserts correctness, not timings (the
 * test machine may be loaded): writes must come back after the failover, within a generous bound;
 * the 5 s goal is the full form's claim.
 */
export const REDIS_FAILOVER_SHORT: RedisFailoverOptions = { clients: 10, gateways: 2, canvases: 2, shards: 3, replicas: 2, warmupMs: 1_500, recoveryMs: 3_000, drawIntervalMs: 100, resumeBoundMs: 20_000, form: "short" };

/** What the failover did, besides the common fault figures. */
export interface FailoverFigures extends FaultFigures {
  /** From the kill until the cluster served the canvas's slot from the promoted replica (ms). */
  promotedAfterKillMs: number;
  /** Port of the killed primary and of the replica promoted in its place. */
  killedPort: number;
  promotedPort: number;
}

/**
 * The primary that owns the busy canvas, as a fault victim: `restart` first waits for the cluster
 * to promote its replica (the failover under test), then starts the node again, as an orchestrator
 * replaces a failed pod; it rejoins as a replica, so the shard can confirm WAITs again.
 */
function primaryVictim(redis: TestRedisCluster, primary: ClusterNode, key: string, seen: { killMs: number; promotedMs: number; promotedPort: number }): FaultVictim {
  return {
    async kill9() {
      seen.killMs = Date.now();
      await primary.kill9();
    },
    async restart() {
      await waitFor("a replica promoted in place of the killed primary", async () => {
        const now = await redis.primaryFor(key);
        seen.promotedPort = now.port;
        return now.port !== primary.port;
      }, 20_000, 50);
      seen.promotedMs = Date.now();
      await primary.restart();
    },
  };
}

/**
 * Redis failover chaos: clients draw through real gateways and canvas replicas on a Redis Cluster
 * (WAIT 1, on by default there); the primary that owns the busy canvas is killed with -9. Claims:
 * no acknowledged pixel lost (each Ack checked against the stored batch of its seq), writes
 * succeed again within `resumeBoundMs` of the kill (the first Ack of a placement sent after the
 * kill; placements in flight at the kill may still end in UNAVAILABLE after their deadline), every client converges to the stored canvas,
 * every placement is answered (an Ack or an error such as UNAVAILABLE, never silence) and the
 * epoch is kept.
 */
export async function runRedisFailover(o: RedisFailoverOptions): Promise<SuiteResult<{ failover: FailoverFigures }>> {
  const cluster = await startChaosCluster({ gateways: o.gateways, canvases: o.canvases, redisMode: "cluster", redisShards: o.shards, redisReplicas: o.replicas, appendfsync: "everysec" });
  const redis = cluster.redisCluster;
  const claims = new Claims();
  try {
    if (!redis) throw new Error("redis-failover needs the cluster's own Redis Cluster");
    const key = canvasKeys(DEFAULT_CANVAS_ID).meta;
    const primary = await redis.primaryFor(key);
    const seen = { killMs: 0, promotedMs: 0, promotedPort: 0 };
    const f = await faultPhase(`redis primary of "${DEFAULT_CANVAS_ID}" kill -9 (port ${primary.port})`, cluster, primaryVictim(redis, primary, key, seen), 0, o, claims);
    const failover: FailoverFigures = { ...f, promotedAfterKillMs: seen.promotedMs - seen.killMs, killedPort: primary.port, promotedPort: seen.promotedPort };
    claims.expect(f.firstNewAckAfterKillMs <= o.resumeBoundMs, `the first write sent after the kill was acknowledged ${f.firstNewAckAfterKillMs} ms after it (bound ${o.resumeBoundMs} ms)`);
    const otherErrors = Object.keys(f.errors).filter((code) => !code.includes("UNAVAILABLE"));
    claims.expect(otherErrors.length === 0, `clients got errors other than UNAVAILABLE: ${JSON.stringify(f.errors)}`);
    return claims.result("redis-failover", o, { failover }, [
      `${f.fault} with ${o.clients} clients drawing on a Redis Cluster of ${o.shards} primaries x ${o.replicas} replicas (WAIT 1)`,
      `  replica ${failover.promotedPort} promoted ${failover.promotedAfterKillMs} ms after the kill; the killed node then restarted as a replica`,
      `  acked pixels lost ${f.lostAckedPixels} of ${f.ackedPixels}; epoch ${f.epochBefore} -> ${f.epochAfter}`,
      `  writes succeeded again ${f.firstNewAckAfterKillMs} ms after the kill (first Ack of a placement sent after it; bound ${o.resumeBoundMs}); longest gap without an Ack ${f.longestAckGapMs} ms`,
      `  placements refused or lost were sent ${f.failedSentRangeMs[0]}..${f.failedSentRangeMs[1]} ms after the kill; none failed when sent later (first Ack of those: ${f.writesResumedAfterKillMs} ms after the kill)`,
      `  placements during the fault: ${Object.entries(f.duringFault).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}; errors ${JSON.stringify(f.errors)}; disconnections ${f.clientDisconnections}`,
      `  slowest answer ${f.slowestAnswerMs} ms; unanswered ${f.unanswered}; divergent pixels ${f.divergentPixels}`,
    ]);
  } finally {
    await cluster.stop();
  }
}
