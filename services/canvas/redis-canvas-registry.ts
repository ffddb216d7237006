import type { Logger } from "../shared/logger.js";
import { CANVAS_REGISTRY_KEY } from "../shared/redis-keys.js";
import { createRedisClient, type RedisClient, type RedisEndpoint } from "../shared/redis-connection.js";
import { CanvasExistsError, describeConflict, formatCanvasInfo, parseCanvasInfo, sameSpec, type CanvasInfo, type CanvasRegistry, type CanvasSpec, type CreatedCanvas } from "./canvas-registry.js";
import { StoreUnavailableError } from "./canvas-store.js";
import { storeRedisOptions } from "./store-redis-options.js";

/**
 * The registry on Redis (one server or a cluster): one hash (CANVAS_REGISTRY_KEY, its own slot) of name -> JSON entry, created with HSETNX
 * so concurrent creates of one name race safely. It has its own connection, with the canvas
 * store's resilience settings (no offline queue, no resends, command timeout): a call while Redis
 * is down fails at once with StoreUnavailableError.
 */
export class RedisCanvasRegistry implements CanvasRegistry {
  private readonly redis: RedisClient;
  /** Entries read or written by this process; entries never change, so they are kept. */
  private readonly cache = new Map<string, CanvasInfo>();
  private closed = false;

  constructor(redis: RedisEndpoint, logger: Logger) {
    this.redis = createRedisClient(redis, storeRedisOptions("pixel-canvas-registry"));
    this.redis.on("error", (err: Error) => logger.warn({ err: err.message }, "redis registry connection error"));
  }

  isReady(): boolean {
    return !this.closed && this.redis.status === "ready";
  }

  async create(spec: CanvasSpec): Promise<CreatedCanvas> {
    const info = { ...spec, createdUnixMs: Date.now() };
    const added = await this.run(() => this.redis.hsetnx(CANVAS_REGISTRY_KEY, spec.name, formatCanvasInfo(info)));
    if (added === 1) {
      this.cache.set(spec.name, info);
      return { info, created: true };
    }
    const existing = await this.get(spec.name);
    if (existing === undefined) throw new Error(`canvas "${spec.name}" vanished from the registry during its create`);
    if (!sameSpec(existing, spec)) throw new CanvasExistsError(describeConflict(existing));
    return { info: existing, created: false };
  }

  async get(name: string): Promise<CanvasInfo | undefined> {
    const cached = this.closed ? undefined : this.cache.get(name);
    if (cached !== undefined) return cached;
    const stored = await this.run(() => this.redis.hget(CANVAS_REGISTRY_KEY, name));
    if (stored === null) return undefined;
    const info = parseCanvasInfo(name, stored);
    this.cache.set(name, info);
    return info;
  }

  async list(): Promise<CanvasInfo[]> {
    const all = await this.run(() => this.redis.hgetall(CANVAS_REGISTRY_KEY));
    const infos = Object.entries(all).map(([name, stored]) => parseCanvasInfo(name, stored));
    for (const info of infos) this.cache.set(info.name, info);
    return infos.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  known(name: string): CanvasInfo | undefined {
    return this.cache.get(name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError("the canvas registry is closed");
    try {
      return await call();
    } catch (err) {
      throw new StoreUnavailableError(`redis is not available: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
