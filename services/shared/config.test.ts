import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import type { Cluster } from "ioredis";
import { createRedisClient, createShardedSubscriber } from "./redis-connection.js";

describe("CANVAS_IDS, the registry's seed", () => {
  it("gives each plain name CANVAS_WIDTH x CANVAS_HEIGHT and each name:WxH its own size, adding the default canvas first when missing", () => {
    const config = loadConfig({ CANVAS_WIDTH: "60", CANVAS_HEIGHT: "40", CANVAS_IDS: "art, big:2048x1024" });
    expect(config.canvasIds).toEqual(["default", "art", "big"]);
    expect(Object.fromEntries(config.canvasSizes)).toEqual({ default: { width: 60, height: 40 }, art: { width: 60, height: 40 }, big: { width: 2048, height: 1024 } });
  });

  it("defaults to the default canvas alone at 50x50", () => {
    expect(Object.fromEntries(loadConfig({}).canvasSizes)).toEqual({ default: { width: 50, height: 50 } });
  });

  it("refuses a bad name, a side outside 1..8192, a malformed size and a name given twice", () => {
    for (const raw of ["Big", "big:0x10", "big:8193x10", "big:10", "big:10x10x10", "a,a:5x5"]) {
      expect(() => loadConfig({ CANVAS_IDS: raw }), raw).toThrow(ConfigError);
    }
  });
});

describe("Redis: REDIS_URL (one server) or REDIS_CLUSTER_NODES (a Redis Cluster), and the WAIT policy", () => {
  it("reads either mode, with WAIT 1 by default on a cluster and off on one Redis", () => {
    expect(loadConfig({}).redis).toBeUndefined();
    const single = loadConfig({ REDIS_URL: "redis://10.0.0.1:6379" });
    expect(single.redis).toEqual({ mode: "single", url: "redis://10.0.0.1:6379" });
    expect(single.redisWait).toEqual({ replicas: 0, timeoutMs: 500 });
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: "redis-0.redis:6379, 10.0.0.2:7001,[::1]:7002" });
    expect(cluster.redis).toEqual({ mode: "cluster", nodes: [{ host: "redis-0.redis", port: 6379 }, { host: "10.0.0.2", port: 7001 }, { host: "::1", port: 7002 }] });
    expect(cluster.redisWait).toEqual({ replicas: 1, timeoutMs: 500 });
    expect(loadConfig({ REDIS_CLUSTER_NODES: "a:1", REDIS_WAIT_REPLICAS: "0" }).redisWait.replicas).toBe(0);
    expect(loadConfig({ REDIS_URL: "redis://a:1", REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "250" }).redisWait).toEqual({ replicas: 1, timeoutMs: 250 });
  });

  it("gives a cluster's nodes the shared REDIS_PASSWORD, and every node connection of the client uses it", () => {
    const target = loadConfig({ REDIS_CLUSTER_NODES: "a:1", REDIS_PASSWORD: "s3cret" }).redis;
    expect(target).toEqual({ mode: "cluster", nodes: [{ host: "a", port: 1 }], password: "s3cret" });
    const client = createRedisClient(target!, { lazyConnect: true });
    const subscriber = createShardedSubscriber(target!, { lazyConnect: true });
    expect((client as Cluster).options.redisOptions?.password).toBe("s3cret");
    expect(subscriber.options.redisOptions?.password).toBe("s3cret");
    client.disconnect();
    subscriber.disconnect();
    expect(loadConfig({ REDIS_CLUSTER_NODES: "a:1" }).redis).toEqual({ mode: "cluster", nodes: [{ host: "a", port: 1 }] });
  });

  it("refuses both variables at once, a node without a port and a WAIT outside its range", () => {
    expect(() => loadConfig({ REDIS_URL: "redis://a:1", REDIS_CLUSTER_NODES: "a:1" })).toThrow(/not both/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "a:1,b" })).toThrow(/REDIS_CLUSTER_NODES entry "b" must be host:port/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "a:70000" })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "a:1", REDIS_WAIT_TIMEOUT_MS: "0" })).toThrow(/REDIS_WAIT_TIMEOUT_MS/);
  });
});
