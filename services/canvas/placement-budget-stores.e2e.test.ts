import { Redis } from "ioredis";
import { pino } from "pino";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { startRedis } from "../../tools/process/redis-server.js";
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
