import { Cluster, Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { startRedisCluster, type TestRedisCluster } from "../../tools/process/redis-cluster.js";
import { clusterRedis } from "./redis-connection.js";
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

describe("RedisPixelBus against a real Redis Cluster (3 primaries, 3 replicas: SSUBSCRIBE per shard)", () => {
  let cluster: TestRedisCluster;
  let publisher: Cluster;
  let bus: RedisPixelBus;
  const target = () => clusterRedis(cluster.seeds);
  /** SPUBLISH, as the write script does on a cluster; answers how many subscribers got it. */
  const spublish = (canvasId: string, payload: Uint8Array) => publisher.spublish(canvasKeys(canvasId).channel, Buffer.from(payload));

  beforeAll(async () => {
    cluster = await startRedisCluster({ shards: 3 });
    publisher = new Cluster(cluster.seeds.map((s) => ({ host: "127.0.0.1", port: Number(s.split(":")[1]) })));
    publisher.on("error", () => undefined);
    bus = new RedisPixelBus(target(), log);
  }, 60_000);

  afterAll(async () => {
    await bus?.close();
    publisher?.disconnect();
    await cluster?.stop();
  });

  describePixelBusContract("RedisPixelBus (cluster)", async () => {
    const bus = new RedisPixelBus(target(), log);
    return { bus, publish: async (canvasId, payload) => void (await spublish(canvasId, payload)), close: () => bus.close() };
  });

  it("delivers batches of canvases on every shard right after ready (30 fresh channels)", async () => {
    for (let i = 0; i < 30; i++) {
      const canvasId = `shard-${i}`;
      const heard: number[] = [];
      const sub = bus.subscribe(canvasId, (payload) => heard.push(payload[0]!));
      await sub.ready;
      expect(await spublish(canvasId, new Uint8Array([i]))).toBe(1);
      await waitFor(`batch on ${canvasId}`, () => heard.length === 1, 2_000, 2);
      expect(heard).toEqual([i]);
      sub.unsubscribe();
    }
  });

  it("after kill -9 of the primary owning a channel, calls onResubscribed once the promoted replica confirmed it", async () => {
    const heard: number[] = [];
    const sub = bus.subscribe("failover", (p) => heard.push(p[0]!));
    await sub.ready;
    let publishedAtResubscribe: number | undefined;
    const off = bus.onResubscribed(() => {
      void spublish("failover", new Uint8Array([42])).then((n) => (publishedAtResubscribe = Number(n)), () => undefined);
    });
    const victim = await cluster.primaryFor(canvasKeys("failover").channel);
    await victim.kill9();
    await waitFor("resubscribed and published", () => publishedAtResubscribe !== undefined, 20_000, 10);
    expect(publishedAtResubscribe).toBe(1);
    await waitFor("batch after the failover", () => heard.includes(42), 2_000, 2);
    expect((await cluster.primaryFor(canvasKeys("failover").channel)).port).not.toBe(victim.port);
    off();
    sub.unsubscribe();
    await victim.restart();
    await cluster.waitHealthy();
  }, 40_000);
});
