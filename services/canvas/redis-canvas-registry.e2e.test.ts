import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { CANVAS_REGISTRY_KEY } from "../shared/redis-keys.js";
import { StoreUnavailableError } from "./canvas-store.js";
import { RedisCanvasRegistry } from "./redis-canvas-registry.js";
import { describeCanvasRegistryContract } from "./test-support/canvas-registry-contract.js";

const logger = pino({ level: "silent" });

describe("RedisCanvasRegistry against a real redis-server", () => {
  let redis: TestRedis;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });

  const open = async () => {
    const registry = new RedisCanvasRegistry(redis.url, logger);
    await waitFor("registry ready", () => registry.isReady());
    return registry;
  };

  describeCanvasRegistryContract("RedisCanvasRegistry", {
    async clear() {
      await admin.flushall();
    },
    open,
  });

  it("keeps every entry in the one registry hash, as JSON under the canvas name", async () => {
    await admin.flushall();
    const registry = await open();
    await registry.create({ name: "big", width: 2048, height: 2048, background: 0xffffff });
    expect(await admin.hkeys(CANVAS_REGISTRY_KEY)).toEqual(["big"]);
    expect(JSON.parse((await admin.hget(CANVAS_REGISTRY_KEY, "big"))!)).toMatchObject({ width: 2048, height: 2048, background: 0xffffff });
    await registry.close();
    await expect(registry.get("big")).rejects.toThrow(StoreUnavailableError);
  });
});
