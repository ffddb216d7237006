import { Redis } from "ioredis";
import type { Logger } from "./logger.js";
import { redisConnected } from "./metrics.js";
import { canvasKeys } from "./redis-keys.js";
import { REDIS_MAX_BACKOFF_MS } from "./timing.js";

/** Receives one published PixelBatch, as the binary protobuf bytes the canvas service stored. */
export type BatchListener = (payload: Uint8Array) => void;

/**
 * The broadcast channel between the canvas service and every gateway. Delivery is
 * at most once and in publish (= seq) order; after a reconnect messages may have
 * been missed, so consumers check seq continuity and resync on a gap.
 */
export interface PixelBus {
  /** Listens to one canvas's batches until the returned function is called. */
  subscribe(canvasId: string, listener: BatchListener): () => void;
  /** Calls `listener` after the bus reconnected, when messages may have been missed. */
  onResubscribed(listener: () => void): () => void;
  /** True while the bus can deliver. */
  isReady(): boolean;
  close(): Promise<void>;
}

class ListenerSet {
  private readonly byCanvas = new Map<string, Set<BatchListener>>();
  private readonly resubscribed = new Set<() => void>();

  /** Adds a listener; returns true when it is the canvas's first. */
  add(canvasId: string, listener: BatchListener): boolean {
    let set = this.byCanvas.get(canvasId);
    const first = set === undefined;
    if (!set) this.byCanvas.set(canvasId, (set = new Set()));
    set.add(listener);
    return first;
  }

  /** Removes a listener; returns true when the canvas has none left. */
  remove(canvasId: string, listener: BatchListener): boolean {
    const set = this.byCanvas.get(canvasId);
    if (!set) return false;
    set.delete(listener);
    if (set.size > 0) return false;
    this.byCanvas.delete(canvasId);
    return true;
  }

  emit(canvasId: string, payload: Uint8Array): void {
    const set = this.byCanvas.get(canvasId);
    if (set) for (const listener of set) listener(payload);
  }

  onResubscribed(listener: () => void): () => void {
    this.resubscribed.add(listener);
    return () => this.resubscribed.delete(listener);
  }

  emitResubscribed(): void {
    for (const listener of this.resubscribed) listener();
  }
}

/** The embedded bus of a single-process run: same ordering, delivered on a microtask. */
export class MemoryPixelBus implements PixelBus {
  private readonly listeners = new ListenerSet();

  /** Publishes a stored batch to every subscriber of its canvas. */
  publish(canvasId: string, payload: Uint8Array): void {
    queueMicrotask(() => this.listeners.emit(canvasId, payload));
  }

  subscribe(canvasId: string, listener: BatchListener): () => void {
    this.listeners.add(canvasId, listener);
    return () => void this.listeners.remove(canvasId, listener);
  }

  onResubscribed(listener: () => void): () => void {
    return this.listeners.onResubscribed(listener);
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}

/** Redis Pub/Sub on one dedicated subscriber connection, reading messages as Buffers. */
export class RedisPixelBus implements PixelBus {
  private readonly listeners = new ListenerSet();
  private readonly channelToCanvas = new Map<string, string>();
  private readonly redis: Redis;
  private everReady = false;

  constructor(redisUrl: string, private readonly log: Logger) {
    this.redis = new Redis(redisUrl, {
      connectionName: "pixel-bus",
      autoResubscribe: true,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), REDIS_MAX_BACKOFF_MS),
    });
    redisConnected.set({ role: "bus" }, 0);
    this.redis.on("ready", () => {
      redisConnected.set({ role: "bus" }, 1);
      if (this.everReady) {
        this.log.warn("pub/sub reconnected; consumers resync");
        this.listeners.emitResubscribed();
      }
      this.everReady = true;
    });
    this.redis.on("close", () => redisConnected.set({ role: "bus" }, 0));
    this.redis.on("error", (err: Error) => this.log.warn({ err: err.message }, "pub/sub connection error"));
    this.redis.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      const canvasId = this.channelToCanvas.get(channel.toString("latin1"));
      if (canvasId !== undefined) this.listeners.emit(canvasId, message);
    });
  }

  subscribe(canvasId: string, listener: BatchListener): () => void {
    const channel = canvasKeys(canvasId).channel;
    if (this.listeners.add(canvasId, listener)) {
      this.channelToCanvas.set(channel, canvasId);
      this.redis.subscribe(channel).catch((err: Error) => this.log.error({ err: err.message, channel }, "subscribe failed"));
    }
    return () => {
      if (this.listeners.remove(canvasId, listener)) {
        this.channelToCanvas.delete(channel);
        this.redis.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  onResubscribed(listener: () => void): () => void {
    return this.listeners.onResubscribed(listener);
  }

  isReady(): boolean {
    return this.redis.status === "ready";
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
