import type { Logger } from "../../shared/logger.js";
import { redisConnected } from "../../shared/metrics.js";
import { canvasKeys } from "../../shared/redis-keys.js";
import { createRedisClient, type RedisClient, type RedisEndpoint } from "../../shared/redis-connection.js";
import { REDIS_BASE_BACKOFF_MS, REDIS_MAX_BACKOFF_MS } from "../../shared/timing.js";

/** Who is online on a canvas: a connection count and the non-empty display names. */
export interface PresenceView {
  online: number;
  /** Sorted, at most MAX_PRESENCE_NAMES. */
  names: string[];
}

/** Most names a Presence frame carries (realtime.proto). */
export const MAX_PRESENCE_NAMES = 100;

/** Where gateways share presence; each gateway owns one entry per canvas. */
export interface PresenceStore {
  /** Writes this gateway's view of a canvas and returns the merged view of every live gateway. */
  sync(canvasId: string, local: PresenceView): Promise<PresenceView>;
  /** Deletes this gateway's entry for a canvas (room closed or shutdown). */
  remove(canvasId: string): Promise<void>;
  close(): Promise<void>;
}

interface Entry extends PresenceView {
  expiresAt: number;
}

function merge(entries: Iterable<PresenceView>): PresenceView {
  let online = 0;
  const names: string[] = [];
  for (const e of entries) {
    online += e.online;
    names.push(...e.names);
  }
  names.sort();
  return { online, names: names.slice(0, MAX_PRESENCE_NAMES) };
}

/**
 * Presence for the embedded single-process run (and tests): entries live in this
 * process, keyed like the Redis hash, with the same expiry rule.
 */
export class MemoryPresenceStore implements PresenceStore {
  constructor(
    private readonly instanceId: string,
    private readonly ttlMs: number,
    private readonly canvases = new Map<string, Map<string, Entry>>(),
  ) {}

  /** A store for another gateway sharing this one's entries (several gateways in one test process). */
  forInstance(instanceId: string): MemoryPresenceStore {
    return new MemoryPresenceStore(instanceId, this.ttlMs, this.canvases);
  }

  async sync(canvasId: string, local: PresenceView): Promise<PresenceView> {
    let entries = this.canvases.get(canvasId);
    if (!entries) this.canvases.set(canvasId, (entries = new Map()));
    const now = Date.now();
    entries.set(this.instanceId, { ...local, expiresAt: now + this.ttlMs });
    for (const [id, e] of entries) if (e.expiresAt <= now) entries.delete(id);
    return merge(entries.values());
  }

  async remove(canvasId: string): Promise<void> {
    this.canvases.get(canvasId)?.delete(this.instanceId);
  }

  async close(): Promise<void> {}
}

function parseEntry(raw: string): Entry | undefined {
  try {
    const v = JSON.parse(raw) as Partial<Entry>;
    if (typeof v.online !== "number" || typeof v.expiresAt !== "number" || !Array.isArray(v.names)) return undefined;
    return { online: v.online, expiresAt: v.expiresAt, names: v.names.filter((n): n is string => typeof n === "string") };
  } catch {
    return undefined;
  }
}

/**
 * Presence in the hash `canvas:{id}:presence`: field = gateway instance id, value =
 * {online, names, expiresAt}. Each sync writes our field and reads the whole hash in
 * one pipeline; a field past its expiry belongs to a dead gateway and is deleted.
 * No KEYS scans: a gateway only touches the canvases it has rooms for. The hash shares its
 * canvas's hash tag, so on a Redis Cluster the pipeline goes to one shard.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly redis: RedisClient;

  constructor(
    redis: RedisEndpoint,
    private readonly instanceId: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    this.redis = createRedisClient(redis, {
      connectionName: "pixel-gateway-presence",
      // Presence is best effort: fail fast instead of queueing while Redis is away.
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (times) => Math.min(REDIS_BASE_BACKOFF_MS * 2 ** Math.min(times, 10), REDIS_MAX_BACKOFF_MS),
    });
    redisConnected.set({ role: "presence" }, 0);
    this.redis.on("ready", () => redisConnected.set({ role: "presence" }, 1));
    this.redis.on("close", () => redisConnected.set({ role: "presence" }, 0));
    this.redis.on("error", (err: Error) => this.log.warn({ err: err.message }, "presence connection error"));
  }

  async sync(canvasId: string, local: PresenceView): Promise<PresenceView> {
    const key = canvasKeys(canvasId).presence;
    const now = Date.now();
    const value = JSON.stringify({ ...local, expiresAt: now + this.ttlMs });
    const results = await this.redis
      .pipeline()
      .hset(key, this.instanceId, value)
      // The whole hash goes away once no gateway refreshes it.
      .pexpire(key, this.ttlMs * 2)
      .hgetall(key)
      .exec();
    const all = results?.[2]?.[1] as Record<string, string> | undefined;
    const failed = results?.find(([err]) => err);
    if (!all || failed) throw failed?.[0] ?? new Error("presence pipeline returned nothing");
    const live: Entry[] = [];
    const expired: string[] = [];
    for (const [id, raw] of Object.entries(all)) {
      const entry = parseEntry(raw);
      if (entry && entry.expiresAt > now) live.push(entry);
      else expired.push(id);
    }
    if (expired.length > 0) await this.redis.hdel(key, ...expired);
    return merge(live);
  }

  async remove(canvasId: string): Promise<void> {
    await this.redis.hdel(canvasKeys(canvasId).presence, this.instanceId);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
