import { Cluster } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { startRedisCluster, type TestRedisCluster } from "../../tools/process/redis-cluster.js";
import { RedisPixelBus } from "../shared/pixel-bus.js";
import { clusterRedis, type RedisTarget } from "../shared/redis-connection.js";
import { canvasKeys, tileKey } from "../shared/redis-keys.js";
import { StoreUnavailableError } from "./canvas-store.js";
import { RedisCanvasStore } from "./redis-canvas-store.js";
import { RedisHistorySource } from "../history/redis-history-source.js";
import { describeCanvasStoreContract } from "./test-support/canvas-store-contract.js";

const logger = pino({ level: "silent" });
const W = 16;
const H = 8;
const WAIT = { replicas: 1, timeoutMs: 300 };

describe("RedisCanvasStore against a real Redis Cluster (3 primaries + 3 replicas, WAIT 1)", () => {
  let cluster: TestRedisCluster;
  let target: RedisTarget;
  let admin: Cluster;
  const stores: RedisCanvasStore[] = [];
  const open = (width = W, height = H) => {
    const store = new RedisCanvasStore({ redis: target, wait: WAIT, width, height, logger });
    stores.push(store);
    return store;
  };
  const ready = (store: RedisCanvasStore) => waitFor("store ready", () => store.isReady());

  beforeAll(async () => {
    cluster = await startRedisCluster({ shards: 3, appendfsync: "always" });
    target = clusterRedis(cluster.seeds);
    admin = new Cluster(target.mode === "cluster" ? target.nodes : []);
    admin.on("error", () => undefined);
    // Until its slot map is read, a cluster client counts every seed as a primary.
    await new Promise((resolve) => admin.once("ready", resolve));
  }, 60_000);
  afterAll(async () => {
    for (const s of stores) await s.close();
    admin?.disconnect();
    await cluster?.stop();
  });

  describeCanvasStoreContract("RedisCanvasStore (cluster)", {
    async clear() {
      await Promise.all(admin.nodes("master").map((node) => node.flushall()));
    },
    async open({ width, height, historyLimit, shapes }) {
      const bus = new RedisPixelBus(target, logger);
      const shapeOf = (canvasId: string) => shapes?.[canvasId];
      const history = new RedisHistorySource(target, []);
      const store = new RedisCanvasStore({ redis: target, wait: WAIT, width, height, logger, historyLimit, shapeOf });
      return { store, bus, history, dispose: async () => void (await Promise.all([bus.close(), history.close()])) };
    },
  });

  it("spreads canvases over every shard, each canvas's keys and channel in its one slot", async () => {
    const store = open();
    await ready(store);
    const owners = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const canvasId = `spread-${i}`;
      await store.setPixels(canvasId, [{ x: i, y: 0, color: i }], "");
      if (i === 0) {
        const slots = new Set(await Promise.all([...Object.values(canvasKeys(canvasId)), tileKey(canvasId, 0, 0)].map((key) => cluster.slotOf(key))));
        expect(slots.size).toBe(1);
      }
      owners.add((await cluster.primaryFor(canvasKeys(canvasId).meta)).port);
    }
    expect(owners.size).toBe(3);
  });

  it("answers Unavailable, never an ack, while the canvas's shard has no replica to confirm a write, and acks again once it has", async () => {
    const store = open();
    await ready(store);
    const canvasId = "replicated";
    await store.setPixels(canvasId, [{ x: 0, y: 0, color: 1 }], "");
    const primary = await cluster.primaryFor(canvasKeys(canvasId).meta);
    const replica = await cluster.replicaOf(primary);
    await replica.kill9();
    await expect(store.setPixels(canvasId, [{ x: 1, y: 0, color: 2 }], "")).rejects.toBeInstanceOf(StoreUnavailableError);
    await replica.restart();
    await cluster.waitHealthy();
    const { seq } = await store.setPixels(canvasId, [{ x: 2, y: 0, color: 3 }], "");
    // The refused write was stored all the same (seq 2): Unavailable means "not confirmed", not "not applied".
    expect(seq).toBe(3);
  }, 30_000);

  it("after kill -9 of the canvas's primary, writes fail with Unavailable, then succeed on the promoted replica keeping every acked pixel and the epoch", async () => {
    const store = open();
    await ready(store);
    const canvasId = "failover";
    const acked: { x: number; y: number; color: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const p = { x: i % W, y: Math.floor(i / W), color: 0x100 + i };
      await store.setPixels(canvasId, [p], "");
      acked.push(p);
    }
    const { epoch } = await store.getCanvas(canvasId);
    const victim = await cluster.primaryFor(canvasKeys(canvasId).meta);
    await victim.kill9();
    await expect(store.setPixels(canvasId, [{ x: 0, y: 7, color: 0 }], "")).rejects.toBeInstanceOf(StoreUnavailableError);
    await waitFor("a replica promoted", async () => (await cluster.primaryFor(canvasKeys(canvasId).meta)).port !== victim.port, 15_000, 100);
    // As an orchestrator would: the failed node comes back, as a replica of the new primary.
    await victim.restart();
    await waitFor("writes acknowledged again", () => store.setPixels(canvasId, [{ x: 15, y: 7, color: 0xabcdef }], "").then(() => true, () => false), 15_000, 100);
    const snap = await store.getCanvas(canvasId);
    expect(snap.epoch).toBe(epoch);
    for (const p of acked) expect(Buffer.from(snap.pixels).readUIntBE((p.y * W + p.x) * 3, 3)).toBe(p.color);
    await cluster.waitHealthy();
  }, 40_000);
});
