import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { RedisPixelBus } from "./pixel-bus.js";
import { canvasKeys } from "./redis-keys.js";
import { describePixelBusContract } from "./test-support/pixel-bus-contract.js";

const log = pino({ level: "silent" });

describe("RedisPixelBus against a real redis-server", () => {
  let redis: TestRedis;
  let publisher: Redis;
  let bus: RedisPixelBus;

  beforeAll(async () => {
    redis = await startRedis({ appendonly: false });
    publisher = new Redis(redis.url);
    bus = new RedisPixelBus(redis.url, log);
  });

  afterAll(async () => {
    await bus?.close();
    publisher?.disconnect();
    await redis?.stop();
  });

  describePixelBusContract("RedisPixelBus", async () => {
    const bus = new RedisPixelBus(redis.url, log);
    return {
      bus,
      publish: async (canvasId, payload) => void (await publisher.publish(canvasKeys(canvasId).channel, Buffer.from(payload))),
      close: () => bus.close(),
    };
  });

  it("always delivers a batch published right after a subscription's ready resolved (50 fresh channels)", async () => {
    for (let i = 0; i < 50; i++) {
      const canvasId = `ready-${i}`;
      const heard: number[] = [];
      const sub = bus.subscribe(canvasId, (payload) => heard.push(payload[0]!));
      await sub.ready;
      // Published the moment ready resolved: Redis must already route it to us.
      const receivers = await publisher.publish(canvasKeys(canvasId).channel, Buffer.from([i]));
      expect(receivers).toBe(1);
      await waitFor(`batch on ${canvasId}`, () => heard.length === 1, 2_000, 2);
      expect(heard).toEqual([i]);
      sub.unsubscribe();
    }
  });

  it("after a Redis restart, calls onResubscribed only once the channel is subscribed again", async () => {
    const heard: number[] = [];
    const sub = bus.subscribe("reconnect", (p) => heard.push(p[0]!));
    await sub.ready;
    let publishedAtResubscribe: number | undefined;
    const off = bus.onResubscribed(() => {
      // Whatever is published now must reach us: a consumer resyncs at exactly this point.
      void publisher.publish(canvasKeys("reconnect").channel, Buffer.from([42])).then((n) => (publishedAtResubscribe = n));
    });
    await redis.kill9();
    await redis.restart();
    await waitFor("resubscribed and published", () => publishedAtResubscribe !== undefined, 10_000, 10);
    expect(publishedAtResubscribe).toBe(1);
    await waitFor("batch after reconnect", () => heard.includes(42), 2_000, 2);
    off();
    sub.unsubscribe();
  });
});
