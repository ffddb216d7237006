import { Redis, type Cluster } from "ioredis";
import { pino } from "pino";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { startRedis } from "../../tools/process/redis-server.js";
import { startRedisCluster } from "../../tools/process/redis-cluster.js";
import { clusterRedis, createRedisClient } from "../shared/redis-connection.js";
import { waitFor } from "../../tools/process/free-port.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { RedisCanvasStore } from "./redis-canvas-store.js";
import { CONTRACT_HEIGHT, CONTRACT_WIDTH, describeBudgetContract } from "./test-support/budget-contract.js";

const logger = pino({ level: "silent" });
const size = { width: CONTRACT_WIDTH, height: CONTRACT_HEIGHT, logger };

describeBudgetContract("MemoryCanvasStore", async () => {
  let store: MemoryCanvasStore | undefined;
  return {
    async open(budgets) {
      await store?.close();
      store = new MemoryCanvasStore({ ...size, bus: new MemoryPixelBus(), budgets });
      return store;
    },
    async budgetKeyTtlMs(key) {
      return store!.ledger.ttlMs(key);
    },
    async close() {
      await store?.close();
    },
  };
});

describeBudgetContract("RedisCanvasStore against a real redis-server", async () => {
  const redis = await startRedis();
  const admin = new Redis(redis.url);
  let store: RedisCanvasStore | undefined;
  return {
    async open(budgets) {
      await store?.close();
      // A fresh keyspace per case, as the memory store starts empty.
      await admin.flushall();
      store = new RedisCanvasStore({ ...size, redis: redis.url, budgets });
      await waitFor("store ready", () => store!.isReady());
      return store;
    },
    budgetKeyTtlMs: (key) => admin.pttl(key),
    async close() {
      await store?.close();
      admin.disconnect();
      await redis.stop();
    },
  };
});

describeBudgetContract("RedisCanvasStore against a real Redis Cluster (3 primaries + 3 replicas, WAIT 1)", async () => {
  const cluster = await startRedisCluster({ shards: 3 });
  const target = clusterRedis(cluster.seeds);
  const admin = createRedisClient(target) as Cluster;
  admin.on("error", () => undefined);
  // Until its slot map is read, a cluster client counts every seed as a primary.
  await new Promise((resolve) => admin.once("ready", resolve));
  let store: RedisCanvasStore | undefined;
  return {
    async open(budgets) {
      await store?.close();
      await Promise.all(admin.nodes("master").map((node) => node.flushall()));
      store = new RedisCanvasStore({ ...size, redis: target, wait: { replicas: 1, timeoutMs: 500 }, budgets });
      await waitFor("store ready", () => store!.isReady());
      return store;
    },
    budgetKeyTtlMs: (key) => admin.pttl(key),
    async close() {
      await store?.close();
      admin.disconnect();
      await cluster.stop();
    },
  };
});
