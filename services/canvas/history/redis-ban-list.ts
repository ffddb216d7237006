import { createRedisClient, type RedisClient, type RedisEndpoint } from "../../shared/redis-connection.js";
import type { Logger } from "../../shared/logger.js";
import { BANS_CHANNEL, BANS_KEY } from "../../shared/redis-keys.js";
import { StoreUnavailableError } from "../canvas-store.js";
import { storeRedisOptions } from "../store-redis-options.js";
import { bansInForce, inForce, type BanList, type BanRecord } from "./ban-list.js";

/**
 * Bans on Redis: the hash BANS_KEY (user id -> JSON) and the channel BANS_CHANNEL. A replica that
 * changes a ban publishes on the channel; every replica (itself included) then reloads the hash into
 * its in-memory set. The set is also reloaded whenever the subscriber (re)connects, so a message
 * missed while disconnected costs nothing. Commands fail fast while Redis is down (Unavailable).
 */
export class RedisBanList implements BanList {
  private readonly redis: RedisClient;
  private readonly subscriber: RedisClient;
  private bans = new Map<string, BanRecord>();
  private loading: Promise<void> = Promise.resolve();

  constructor(redis: RedisEndpoint, private readonly logger: Logger) {
    this.redis = createRedisClient(redis, storeRedisOptions("pixel-bans"));
    this.redis.on("error", (err: Error) => logger.warn({ err: err.message }, "redis bans connection error"));
    // The subscriber may queue its SUBSCRIBE until connected; it never carries a caller's command.
    this.subscriber = createRedisClient(redis, { ...storeRedisOptions("pixel-bans-subscriber"), enableOfflineQueue: true, commandTimeout: undefined });
    this.subscriber.on("error", (err: Error) => logger.warn({ err: err.message }, "redis bans subscriber error"));
    this.subscriber.on("message", () => void this.reload());
    this.subscriber.on("ready", () => void this.reload());
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(BANS_CHANNEL);
    await this.reload();
  }

  banOf(userId: string): BanRecord | undefined {
    const ban = this.bans.get(userId);
    return ban !== undefined && inForce(ban) ? ban : undefined;
  }

  async ban(record: BanRecord): Promise<void> {
    await this.run(() => this.redis.multi().hset(BANS_KEY, record.userId, JSON.stringify(record)).publish(BANS_CHANNEL, record.userId).exec());
    await this.reload();
  }

  async unban(userId: string): Promise<boolean> {
    const was = (await this.list()).some((b) => b.userId === userId);
    await this.run(() => this.redis.multi().hdel(BANS_KEY, userId).publish(BANS_CHANNEL, userId).exec());
    await this.reload();
    return was;
  }

  async list(): Promise<BanRecord[]> {
    return bansInForce((await this.read()).values());
  }

  async close(): Promise<void> {
    await Promise.all([this.redis.quit().catch(() => this.redis.disconnect()), this.subscriber.quit().catch(() => this.subscriber.disconnect())]);
  }

  /** Reloads the set; reloads never overlap, and a failed one keeps the set it had. */
  private reload(): Promise<void> {
    this.loading = this.loading.then(async () => {
      try {
        this.bans = await this.read();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, "reloading the bans failed; keeping the set loaded before");
      }
    });
    return this.loading;
  }

  private async read(): Promise<Map<string, BanRecord>> {
    const all = await this.run(() => this.redis.hgetall(BANS_KEY));
    const bans = new Map<string, BanRecord>();
    for (const [userId, json] of Object.entries(all)) {
      const parsed = parseBan(userId, json);
      if (parsed !== undefined) bans.set(userId, parsed);
      else this.logger.warn({ userId }, "ignoring an unreadable ban entry");
    }
    return bans;
  }

  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw new StoreUnavailableError(`redis is not available for bans: ${(err as Error).message}`);
    }
  }
}

/** A stored ban, or undefined when the JSON is not one. */
function parseBan(userId: string, json: string): BanRecord | undefined {
  try {
    const v = JSON.parse(json) as Partial<BanRecord>;
    if (typeof v.reason !== "string" || typeof v.bannedBy !== "string" || typeof v.createdMs !== "number") return undefined;
    if (v.expiresMs !== undefined && typeof v.expiresMs !== "number") return undefined;
    return { userId, reason: v.reason, bannedBy: v.bannedBy, createdMs: v.createdMs, ...(v.expiresMs === undefined ? {} : { expiresMs: v.expiresMs }) };
  } catch {
    return undefined;
  }
}
