import type { Cluster, Redis, RedisOptions } from "ioredis";
import { createRedisClient, createShardedSubscriber, isCluster, type RedisEndpoint } from "./redis-connection.js";
import { REDIS_BASE_BACKOFF_MS, REDIS_MAX_BACKOFF_MS } from "./timing.js";

/**
 * A Pub/Sub connection reduced to what the pixel bus needs, the same for one Redis (SUBSCRIBE on a
 * dedicated connection) and a Redis Cluster (SSUBSCRIBE, one subscriber connection per shard, so a
 * canvas's batches are read from the shard that owns its slot).
 */
export interface BatchSubscriber {
  /** Subscribes; settles once Redis confirmed it (retrying while the owning shard is away). */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /**
   * Makes every channel active again after `onReconnected` and settles once Redis confirmed all of
   * them; messages published before that may be lost, so the caller resyncs its consumers after.
   */
  resubscribe(channels: string[]): Promise<void>;
  /** Every message, channel and payload as Buffers (nothing is stringified). */
  onMessage(listener: (channel: Buffer, message: Buffer) => void): void;
  /** Runs when subscriptions may have lapsed (a reconnect, a failover) and the connection is usable again. */
  onReconnected(listener: () => void): void;
  onConnected(listener: (connected: boolean) => void): void;
  onError(listener: (err: Error) => void): void;
  isReady(): boolean;
  disconnect(): void;
}

const OPTIONS: RedisOptions = {
  connectionName: "pixel-bus",
  autoResubscribe: false,
  maxRetriesPerRequest: null,
  retryStrategy: (times) => Math.min(REDIS_BASE_BACKOFF_MS * 2 ** Math.min(times, 10), REDIS_MAX_BACKOFF_MS),
};

/** Opens the subscriber of the endpoint's mode. */
export function createBatchSubscriber(endpoint: RedisEndpoint): BatchSubscriber {
  return isCluster(endpoint) ? new ShardedBatchSubscriber(createShardedSubscriber(endpoint, OPTIONS)) : new SingleBatchSubscriber(createRedisClient(endpoint, OPTIONS) as Redis);
}

/** SUBSCRIBE on one connection; it re-subscribes itself (autoResubscribe off) so the caller knows when it is done. */
class SingleBatchSubscriber implements BatchSubscriber {
  private everReady = false;

  constructor(private readonly redis: Redis) {}

  async subscribe(channel: string): Promise<void> {
    await this.redis.subscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.redis.unsubscribe(channel);
  }

  async resubscribe(channels: string[]): Promise<void> {
    if (channels.length > 0) await this.redis.subscribe(...channels);
  }

  onMessage(listener: (channel: Buffer, message: Buffer) => void): void {
    this.redis.on("messageBuffer", listener);
  }

  onReconnected(listener: () => void): void {
    this.redis.on("ready", () => {
      if (this.everReady) listener();
      this.everReady = true;
    });
  }

  onConnected(listener: (connected: boolean) => void): void {
    this.redis.on("ready", () => listener(true));
    this.redis.on("close", () => listener(false));
  }

  onError(listener: (err: Error) => void): void {
    this.redis.on("error", listener);
  }

  isReady(): boolean {
    return this.redis.status === "ready";
  }

  disconnect(): void {
    this.redis.disconnect();
  }
}

/**
 * SSUBSCRIBE through ioredis's sharded subscriber group. After a subscriber connection is lost
 * (its shard's primary died, a failover moved the slot), ioredis drops it (`-subscriber`), builds
 * the group again from the new slot map, re-sends SSUBSCRIBE without waiting for the answer, and
 * emits `subscribersReady`; that is our `onReconnected`, and `resubscribe` then confirms each
 * channel itself. ioredis also emits `subscribersReady` when only the order of a shard's replicas
 * changed between two slot-map reads, with every subscriber kept: that lost nothing and is ignored.
 */
class ShardedBatchSubscriber implements BatchSubscriber {
  private everReady = false;
  private subscriberLost = false;
  private closed = false;
  /** Channels asked for and not given up: a retry for a channel no longer wanted stops. */
  private readonly wanted = new Set<string>();

  constructor(private readonly cluster: Cluster) {}

  /** SSUBSCRIBE, retried with backoff while the shard that owns the channel is unreachable. */
  async subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.cluster.ssubscribe(channel);
        // Given up while the answer was on its way: leave nothing subscribed behind.
        if (!this.wanted.has(channel)) await this.cluster.sunsubscribe(channel);
        return;
      } catch (err) {
        if (this.closed || !this.wanted.has(channel)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(REDIS_BASE_BACKOFF_MS * 2 ** Math.min(attempt, 10), REDIS_MAX_BACKOFF_MS)));
      }
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.wanted.delete(channel);
    await this.cluster.sunsubscribe(channel);
  }

  /**
   * SUNSUBSCRIBE then SSUBSCRIBE per channel on its shard's subscriber: the answer to the second
   * confirms the subscription, and the group's channel list keeps each channel once.
   */
  async resubscribe(channels: string[]): Promise<void> {
    await Promise.all(channels.map(async (channel) => {
      await this.cluster.sunsubscribe(channel).catch(() => undefined);
      await this.subscribe(channel);
    }));
  }

  onMessage(listener: (channel: Buffer, message: Buffer) => void): void {
    this.cluster.on("smessageBuffer", listener);
  }

  onReconnected(listener: () => void): void {
    this.cluster.on("-subscriber", () => (this.subscriberLost = true));
    // A reconnect of the whole cluster client stops every subscriber.
    this.cluster.on("close", () => (this.subscriberLost = true));
    this.cluster.on("subscribersReady", () => {
      const lost = this.subscriberLost;
      this.subscriberLost = false;
      if (this.everReady && lost) listener();
      this.everReady = true;
    });
  }

  onConnected(listener: (connected: boolean) => void): void {
    this.cluster.on("ready", () => listener(true));
    this.cluster.on("close", () => listener(false));
  }

  onError(listener: (err: Error) => void): void {
    this.cluster.on("error", listener);
  }

  isReady(): boolean {
    return this.cluster.status === "ready";
  }

  disconnect(): void {
    this.closed = true;
    this.cluster.disconnect();
  }
}
