import { Redis, type Cluster } from "ioredis";
import { afterAll, beforeAll, describe } from "vitest";
import { waitFor } from "../../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../../tools/process/redis-server.js";
import { startRedisCluster, type TestRedisCluster } from "../../../tools/process/redis-cluster.js";
import { clusterRedis, createRedisClient, type RedisTarget } from "../../shared/redis-connection.js";
import { quietLog } from "../test-support/test-helpers.js";
import { RedisPresenceStore } from "./presence.js";
import { describePresenceStoreContract } from "./test-support/presence-store-contract.js";

describe("RedisPresenceStore against a real redis-server", () => {
  let redis: TestRedis;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis({ appendonly: false });
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  describePresenceStoreContract("RedisPresenceStore", {
    async clear() {
      await admin.flushall();
    },
    async open(instanceId, ttlMs) {
      const store = new RedisPresenceStore(redis.url, instanceId, ttlMs, quietLog);
      // It fails fast instead of queueing while connecting: wait until a harmless command answers.
      await waitFor("presence store connected", () => store.remove("connect-probe").then(() => true, () => false));
      return store;
    },
  });
});

describe("RedisPresenceStore against a real Redis Cluster (3 primaries + 3 replicas)", () => {
  let cluster: TestRedisCluster;
  let target: RedisTarget;
  let admin: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ shards: 3 });
    target = clusterRedis(cluster.seeds);
    admin = createRedisClient(target) as Cluster;
    admin.on("error", () => undefined);
    await new Promise((resolve) => admin.once("ready", resolve));
  }, 60_000);
  afterAll(async () => {
    admin?.disconnect();
    await cluster?.stop();
  });

  describePresenceStoreContract("RedisPresenceStore (cluster)", {
    async clear() {
      await Promise.all(admin.nodes("master").map((node) => node.flushall()));
    },
    async open(instanceId, ttlMs) {
      const store = new RedisPresenceStore(target, instanceId, ttlMs, quietLog);
      await waitFor("presence store connected", () => store.remove("connect-probe").then(() => true, () => false));
      return store;
    },
  });
});
