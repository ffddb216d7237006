import { Redis } from "ioredis";
import { afterAll, beforeAll, describe } from "vitest";
import { waitFor } from "../../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../../tools/process/redis-server.js";
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
