import { createBatchSubscriber, type BatchSubscriber } from "./batch-subscriber.js";
import type { Logger } from "./logger.js";
import { redisConnected } from "./metrics.js";
import type { RedisEndpoint } from "./redis-connection.js";
import { canvasKeys } from "./redis-keys.js";

/** Receives one published PixelBatch, as the binary protobuf bytes the canvas service stored. */
export type BatchListener = (payload: Uint8Array) => void;

/**
 * One listener's subscription. Calling it (the original shape) or `unsubscribe()` ends it.
 * `ready` resolves once the bus confirmed the subscription (Redis answered SUBSCRIBE): every
 * batch published after that is delivered, so a consumer that reads state only after `ready`
 * cannot miss a batch between the two. It rejects when the bus closed before confirming.
 */
export type Subscription = (() => void) & { unsubscribe(): void; ready: Promise<void> };

function subscription(unsubscribe: () => void, ready: Promise<void>): Subscription {
  return Object.assign(() => unsubscribe(), { unsubscribe, ready });
}

/**
 * The broadcast channel between the canvas service and every gateway. Delivery is
 * at most once and in publish (= seq) order; after a reconnect messages may have
 * been missed, so consumers check seq continuity and resync on a gap.
 */
export interface PixelBus {
  /** Listens to one canvas's batches until the subscription is ended; await its `ready` before reading state. */
  subscribe(canvasId: string, listener: BatchListener): Subscription;
  /**
   * Calls `listener` after the bus reconnected, when messages may have been missed. It runs
   * only once every subscription is active again, so state read from it on is complete.
   */
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

  subscribe(canvasId: string, listener: BatchListener): Subscription {
    this.listeners.add(canvasId, listener);
    // Active at once: publish() delivers to whoever is listening when its microtask runs.
    return subscription(() => void this.listeners.remove(canvasId, listener), Promise.resolve());
  }

  onResubscribed(listener: () => void): () => void {
    return this.listeners.onResubscribed(listener);
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}

/**
 * Redis Pub/Sub, reading messages as Buffers: SUBSCRIBE on one dedicated connection with one
 * Redis, SSUBSCRIBE on the shard that owns each canvas's slot with a Redis Cluster (see
 * batch-subscriber.ts). It re-subscribes itself after a reconnect or failover (not ioredis's
 * autoResubscribe, which gives no signal when it is done), so onResubscribed listeners run only
 * once Redis confirmed.
 */
export class RedisPixelBus implements PixelBus {
  private readonly listeners = new ListenerSet();
  private readonly channelToCanvas = new Map<string, string>();
  /** Per channel: settles when Redis answered the SUBSCRIBE that made it active. */
  private readonly confirmed = new Map<string, Promise<void>>();
  private readonly redis: BatchSubscriber;

  constructor(redis: RedisEndpoint, private readonly log: Logger) {
    this.redis = createBatchSubscriber(redis);
    redisConnected.set({ role: "bus" }, 0);
    this.redis.onConnected((up) => redisConnected.set({ role: "bus" }, up ? 1 : 0));
    this.redis.onReconnected(() => this.resubscribe());
    this.redis.onError((err: Error) => this.log.warn({ err: err.message }, "pub/sub connection error"));
    this.redis.onMessage((channel: Buffer, message: Buffer) => {
      const canvasId = this.channelToCanvas.get(channel.toString("latin1"));
      if (canvasId !== undefined) this.listeners.emit(canvasId, message);
    });
  }

  subscribe(canvasId: string, listener: BatchListener): Subscription {
    const channel = canvasKeys(canvasId).channel;
    if (this.listeners.add(canvasId, listener)) {
      this.channelToCanvas.set(channel, canvasId);
      this.confirmed.set(channel, this.send(channel));
    }
    const ready = this.confirmed.get(channel) ?? Promise.resolve();
    return subscription(() => {
      if (this.listeners.remove(canvasId, listener)) {
        this.channelToCanvas.delete(channel);
        this.confirmed.delete(channel);
        this.redis.unsubscribe(channel).catch(() => undefined);
      }
    }, ready);
  }

  onResubscribed(listener: () => void): () => void {
    return this.listeners.onResubscribed(listener);
  }

  isReady(): boolean {
    return this.redis.isReady();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  /** SUBSCRIBE; the promise settles with Redis's reply. A failure is logged here, so nobody has to await it. */
  private send(channel: string): Promise<void> {
    const reply = this.redis.subscribe(channel);
    reply.catch((err: Error) => this.log.error({ err: err.message, channel }, "subscribe failed"));
    return reply;
  }

  /** After a reconnect: subscribe to every channel again, then tell consumers to resync. */
  private resubscribe(): void {
    const channels = [...this.channelToCanvas.keys()];
    if (channels.length === 0) return this.listeners.emitResubscribed();
    this.log.warn({ channels: channels.length }, "pub/sub reconnected; re-subscribing, then consumers resync");
    const reply = this.redis.resubscribe(channels);
    reply.catch((err: Error) => this.log.warn({ err: err.message }, "re-subscribe failed; waiting for the next reconnect"));
    for (const channel of channels) this.confirmed.set(channel, reply);
    // A failure here means the connection dropped again: the next "ready" starts over.
    reply.then(() => this.listeners.emitResubscribed(), () => undefined);
  }
}
