import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { waitFor } from "../../tools/process/free-port.js";
import { CanvasService, PixelBatchSchema, type PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import { loadConfig } from "../shared/config.js";
import { MemoryPixelBus, RedisPixelBus } from "../shared/pixel-bus.js";
import { canvasKeys, tileKey } from "../shared/redis-keys.js";
import { createCanvasRoutes } from "./canvas-routes.js";
import { StoreUnavailableError } from "./canvas-store.js";
import { RedisCanvasStore } from "./redis-canvas-store.js";
import { RedisHistorySource } from "../history/redis-history-source.js";
import { describeCanvasStoreContract, type CanvasStoreHarness } from "./test-support/canvas-store-contract.js";
import { describeRestoreContract } from "./test-support/restore-contract.js";

const logger = pino({ level: "silent" });
const W = 16;
const H = 8;

/** Paints batches, in seq order, onto a white canvas. */
function replay(batches: readonly { seq: bigint; pixels: readonly { x: number; y: number; color: number }[] }[], width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3, 0xff);
  for (const b of [...batches].sort((a, z) => Number(a.seq - z.seq))) {
    for (const p of b.pixels) out.writeUIntBE(p.color, (p.y * width + p.x) * 3, 3);
  }
  return out;
}

/** Redis's used_memory in bytes. */
async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]);
}

/** Collects the binary PixelBatches published on a canvas's channel. */
async function listen(redis: TestRedis, canvasId: string): Promise<{ batches: PixelBatch[]; stop: () => void }> {
  const sub = new Redis(redis.url, { lazyConnect: true });
  await sub.connect();
  const batches: PixelBatch[] = [];
  sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => batches.push(fromBinary(PixelBatchSchema, message)));
  await sub.subscribe(canvasKeys(canvasId).channel);
  return { batches, stop: () => sub.disconnect() };
}

describe("RedisCanvasStore against a real redis-server", () => {
  let redis: TestRedis;
  let admin: Redis;
  const stores: RedisCanvasStore[] = [];
  const open = (width = W, height = H, historyLimit?: number) => {
    const store = new RedisCanvasStore({ redis: redis.url, width, height, logger, historyLimit });
    stores.push(store);
    return store;
  };
  const ready = (store: RedisCanvasStore) => waitFor("store ready", () => store.isReady());

  beforeAll(async () => {
    redis = await startRedis({ appendfsync: "always" });
    admin = new Redis(redis.url);
    // The admin connection also sees the kill -9 below; it reconnects by itself.
    admin.on("error", () => undefined);
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    admin.disconnect();
    await redis.stop();
  });

  const harness: CanvasStoreHarness = {
    async clear() {
      await admin.flushall();
    },
    async open({ width, height, historyLimit, shapes }) {
      const bus = new RedisPixelBus(redis.url, logger);
      const shapeOf = (canvasId: string) => shapes?.[canvasId];
      const history = new RedisHistorySource(redis.url, []);
      const store = new RedisCanvasStore({ redis: redis.url, width, height, logger, historyLimit, shapeOf });
      return { store, bus, history, dispose: async () => void (await Promise.all([bus.close(), history.close()])) };
    },
  };
  describeCanvasStoreContract("RedisCanvasStore", harness);
  describeRestoreContract("RedisCanvasStore", harness);

  it("stores and reads back a 1024x1024 canvas, corners included, replaying to the same bytes", async () => {
    const store = open(1024, 1024);
    await ready(store);
    const heard = await listen(redis, "big");
    const pixels = [
      { x: 0, y: 0, color: 0x010203 },
      { x: 1023, y: 0, color: 0x040506 },
      { x: 0, y: 1023, color: 0x070809 },
      { x: 1023, y: 1023, color: 0x0a0b0c },
      ...Array.from({ length: 996 }, (_, i) => ({ x: ((i + 1) * 37) % 1024, y: ((i + 1) * 101) % 1024, color: i + 1 })),
    ];
    const { seq } = await store.setPixels("big", pixels, "corners");
    const snap = await store.getCanvas("big");
    expect([snap.width, snap.height, snap.seq, snap.pixels.length]).toEqual([1024, 1024, seq, 1024 * 1024 * 3]);
    await waitFor("the batch on Pub/Sub", () => heard.batches.some((b) => b.pixels.length > 0));
    heard.stop();
    expect(Buffer.from(snap.pixels).equals(replay(heard.batches, 1024, 1024))).toBe(true);
    expect([...snap.pixels.subarray((1024 * 1024 - 1) * 3)]).toEqual([0x0a, 0x0b, 0x0c]);
  });

  it("publishes bytes whose Lua-prepended seq and epoch decode with fromBinary, even above 32 bits", async () => {
    const store = open();
    await ready(store);
    const listener = await listen(redis, "prefix");
    const first = await store.setPixels("prefix", [{ x: 1, y: 2, color: 0x0a0b0c }], "lua");
    await admin.hset(canvasKeys("prefix").meta, "seq", String(2 ** 40));
    await admin.del(canvasKeys("prefix").log);
    // Pretend this process never saw seq 1, so the jump up is not treated as data loss (it is not).
    const fresh = open();
    await ready(fresh);
    const second = await fresh.setPixels("prefix", [{ x: 0, y: 0, color: 1 }], "");
    await waitFor("two batches", () => listener.batches.filter((b) => b.pixels.length > 0).length === 2);
    listener.stop();
    const [a, b] = listener.batches.filter((x) => x.pixels.length > 0);
    expect(a).toMatchObject({ canvasId: "prefix", seq: BigInt(first.seq), epoch: BigInt(first.epoch), author: "lua" });
    expect(a!.pixels.map((p) => [p.x, p.y, p.color])).toEqual([[1, 2, 0x0a0b0c]]);
    expect(a!.timeUnixMs).toBeGreaterThan(0n);
    expect(second.seq).toBe(2 ** 40 + 1);
    expect(b!.seq).toBe(BigInt(2 ** 40 + 1));
    expect(b!.epoch).toBe(BigInt(first.epoch));
  });

  it("gives writers on three store instances (as three replicas) distinct seqs 1..N, and the stored canvas equals the replay of what was published", async () => {
    const listener = await listen(redis, "race");
    const writers = [open(), open(), open()];
    await Promise.all(writers.map(ready));
    const calls = Array.from({ length: 300 }, (_, i) =>
      writers[i % 3]!.setPixels("race", Array.from({ length: 1 + (i % 7) }, (_, k) => ({ x: (i + k) % W, y: (i * 3 + k) % H, color: (i * 7919 + k) & 0xffffff })), `w${i}`),
    );
    const results = await Promise.all(calls);
    const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    await waitFor("all batches published", () => listener.batches.filter((b) => b.pixels.length > 0).length === 300);
    listener.stop();
    const published = listener.batches.filter((b) => b.pixels.length > 0);
    expect(published.map((b) => Number(b.seq))).toEqual(seqs);
    const snap = await writers[0]!.getCanvas("race");
    expect(snap.seq).toBe(300);
    expect(Buffer.from(snap.pixels).equals(replay(published, W, H))).toBe(true);
  });

  it("stores batches with strokes, row wraps, sparse spans and repeated pixels exactly as applying them in order would", async () => {
    const store = open();
    await ready(store);
    // Paint everything first, so gap bytes a sparse span reads back are not just white.
    const base = Array.from({ length: W * H }, (_, i) => ({ x: i % W, y: Math.floor(i / W), color: (i * 2_654_435_761) % 0x1000000 }));
    const stroke = [
      ...Array.from({ length: W + 5 }, (_, i) => ({ x: (W - 3 + i) % W, y: 2 + Math.floor((W - 3 + i) / W), color: 0x100000 + i })),
      { x: W - 1, y: 2, color: 0xabcdef },
      { x: 0, y: 0, color: 0 },
      { x: 1, y: 0, color: 1 },
      { x: 0, y: 0, color: 2 },
    ];
    const sparse = Array.from({ length: 20 }, (_, i) => ({ x: (i * 5) % W, y: (i * 3) % H, color: 0x200000 + i }));
    const batches = [];
    for (const pixels of [base, stroke, sparse]) batches.push({ seq: BigInt((await store.setPixels("strokes", pixels, "")).seq), pixels });
    const snap = await store.getCanvas("strokes");
    expect(Buffer.from(snap.pixels).equals(replay(batches, W, H))).toBe(true);
  });

  it("through the routes, a rejected batch gets InvalidArgument naming the pixel and leaves seq and bytes unchanged", async () => {
    const store = open();
    await ready(store);
    const config = loadConfig({ CANVAS_WIDTH: String(W), CANVAS_HEIGHT: String(H) });
    const client = createClient(CanvasService, createRouterTransport(createCanvasRoutes({ config, store, bus: new MemoryPixelBus(), logger })));
    await client.setPixels({ pixels: [{ x: 2, y: 2, color: 0x00ff00 }] });
    const before = await admin.getBuffer(tileKey("default", 0, 0));
    const seqBefore = await admin.hget(canvasKeys("default").meta, "seq");
    const bad = [
      [{ x: 0, y: 0, color: 1 }, { x: W, y: 0, color: 1 }],
      [{ x: 0, y: H, color: 1 }],
      [{ x: 1, y: 1, color: 0x1000000 }],
      [],
      Array.from({ length: 10_001 }, () => ({ x: 0, y: 0, color: 0 })),
    ];
    for (const pixels of bad) {
      const err = await client.setPixels({ pixels }).then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(err?.code).toBe(Code.InvalidArgument);
      if (pixels.length > 0 && pixels.length <= 2) expect(err?.rawMessage).toMatch(/^pixel \d+ \(x=\d+, y=\d+\)/);
    }
    expect((await admin.getBuffer(tileKey("default", 0, 0)))!.equals(before!)).toBe(true);
    expect(await admin.hget(canvasKeys("default").meta, "seq")).toBe(seqBefore);
  });

  it("starts a new epoch above the last one it saw when Redis lost the canvas or came back with an older seq or epoch", async () => {
    const store = open();
    await ready(store);
    for (let i = 0; i < 5; i++) await store.setPixels("loss", [{ x: i, y: 0, color: 0 }], "");
    const before = await store.getCanvas("loss");
    // Older seq in the same epoch: as if the AOF lacked the last writes.
    await admin.hset(canvasKeys("loss").meta, "seq", "3");
    const afterRegression = await store.setPixels("loss", [{ x: 0, y: 1, color: 0 }], "");
    expect(afterRegression.epoch).toBeGreaterThan(before.epoch);
    expect(afterRegression.seq).toBe(4);
    expect(await store.history("loss", 2, 10)).toBeUndefined();
    // The canvas vanished entirely.
    await admin.del(canvasKeys("loss").meta, canvasKeys("loss").tiles, tileKey("loss", 0, 0));
    const afterWipe = await store.setPixels("loss", [{ x: 0, y: 0, color: 0 }], "");
    expect(afterWipe.seq).toBe(1);
    expect(afterWipe.epoch).toBeGreaterThan(afterRegression.epoch);
    // An older epoch: as if the AOF predates a reset this process saw.
    await admin.hset(canvasKeys("loss").meta, "epoch", String(afterWipe.epoch - 1_000));
    const afterOlderEpoch = await store.setPixels("loss", [{ x: 1, y: 0, color: 0 }], "");
    expect(afterOlderEpoch.epoch).toBeGreaterThan(afterWipe.epoch);
    expect(afterOlderEpoch.seq).toBe(2);
  });

  it("keeps an 8192x8192 canvas as its painted tiles only: four keys and one tile's memory for a painted corner", async () => {
    const store = open(8192, 8192);
    await ready(store);
    const keysOf = async () => (await admin.keys("canvas:{mem8k}:*")).sort();
    await store.tileVersions("mem8k");
    const usedBefore = await usedMemory(admin);
    await store.setPixels("mem8k", [{ x: 8191, y: 8191, color: 0x0a0b0c }], "");
    const keys = canvasKeys("mem8k");
    expect(await keysOf()).toEqual([keys.log, keys.meta, keys.tiles, tileKey("mem8k", 31, 31)].sort());
    const tileBytes = Number(await admin.call("MEMORY", "USAGE", tileKey("mem8k", 31, 31)));
    expect(tileBytes).toBeGreaterThanOrEqual(256 * 256 * 3);
    // 192 KiB of pixels plus the string header fall in jemalloc's 224 KiB size class.
    expect(tileBytes).toBeLessThanOrEqual(230 * 1024);
    // The whole canvas would be 192 MiB; one painted tile is about 224 KiB.
    expect((await usedMemory(admin)) - usedBefore).toBeLessThan(1024 * 1024);
    await store.setPixels("mem8k", [{ x: 0, y: 0, color: 0 }, { x: 1, y: 0, color: 0 }], "");
    expect(await keysOf()).toHaveLength(5);
  });

  it("cuts a canvas stored before tiles into tiles on first use, keeping its epoch, seq and pixels", async () => {
    const width = 300;
    const height = 260;
    const legacy = Buffer.alloc(width * height * 3, 0xff);
    const painted = [{ x: 3, y: 4, color: 0x112233 }, { x: 299, y: 259, color: 0x445566 }, { x: 100, y: 200, color: 0x778899 }];
    for (const p of painted) legacy.writeUIntBE(p.color, (p.y * width + p.x) * 3, 3);
    const keys = canvasKeys("legacy");
    await admin.hset(keys.meta, "epoch", "1700000000000", "seq", "7", "width", String(width), "height", String(height));
    await admin.set(keys.legacyPixels, legacy);
    const store = open(width, height);
    await ready(store);
    const snap = await store.getCanvas("legacy");
    expect([snap.epoch, snap.seq]).toEqual([1_700_000_000_000, 7]);
    expect(Buffer.from(snap.pixels).equals(legacy)).toBe(true);
    expect([...(await store.tileVersions("legacy")).versions].sort()).toEqual([["0:0", 7], ["1:1", 7]]);
    expect(await admin.exists(keys.legacyPixels)).toBe(0);
    expect((await store.setPixels("legacy", [{ x: 0, y: 0, color: 0 }], "")).seq).toBe(8);
  });

  it("fails fast with StoreUnavailableError while Redis is down, recovers by itself, and keeps every acknowledged pixel", async () => {
    const store = open();
    await ready(store);
    const acked: { x: number; y: number; color: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const p = { x: i % W, y: 4 + Math.floor(i / W), color: 0x100 + i };
      await store.setPixels("durable", [p], "");
      acked.push(p);
    }
    await redis.kill9();
    await waitFor("store not ready", () => !store.isReady());
    const started = Date.now();
    await expect(store.setPixels("durable", [{ x: 0, y: 0, color: 0 }], "")).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_000);
    await redis.restart();
    await waitFor("store ready again", () => store.isReady(), 15_000);
    const after = await store.setPixels("durable", [{ x: 15, y: 7, color: 0xabcdef }], "");
    expect(after.seq).toBe(21);
    const snap = await store.getCanvas("durable");
    for (const p of acked) expect(Buffer.from(snap.pixels).readUIntBE((p.y * W + p.x) * 3, 3)).toBe(p.color);
  });
});
