import { Redis } from "ioredis";
import postgres from "postgres";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { startPostgres, type TestPostgres } from "../../tools/process/postgres-server.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { Prng } from "../../tools/prng.js";
import { RedisCanvasStore } from "../canvas/redis-canvas-store.js";
import { MemoryCanvasStore } from "../canvas/memory-canvas-store.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { Archiver } from "./archiver.js";
import { memoryHistorySource } from "./memory-history-source.js";
import type { PlacementLog } from "./placement-log.js";
import { openPostgresPlacementLog } from "./postgres-placement-log.js";
import { RedisHistorySource } from "./redis-history-source.js";
import { allLogged, expectLogEqualsHistory, randomBatch } from "./test-support/archive-check.js";

const logger = pino({ level: "silent" });
const W = 300;
const H = 200;

/** Seconds the database is down in the outage case (the benchmark does 60). */
const OUTAGE_MS = 5_000;

describe("Archiver from the Redis history to a real PostgreSQL", () => {
  let redis: TestRedis;
  let pg: TestPostgres;
  let admin: postgres.Sql;
  let redisAdmin: Redis;
  const closers: (() => Promise<unknown>)[] = [];
  const openStore = async (historyLimit?: number) => {
    const store = new RedisCanvasStore({ redis: redis.url, width: W, height: H, logger, historyLimit });
    closers.push(() => store.close());
    await waitFor("store ready", () => store.isReady());
    return store;
  };
  const openSource = () => {
    const source = new RedisHistorySource(redis.url, ["a", "b"]);
    closers.push(() => source.close());
    return source;
  };
  const openLog = async () => {
    const log = await openPostgresPlacementLog(pg.url);
    closers.push(() => log.close());
    return log;
  };
  /** Rows of history_placements per (canvas, epoch, seq) that occur more than once: none may. */
  const duplicatePlacements = async () =>
    Number((await admin`SELECT count(*) AS n FROM (SELECT canvas, epoch, seq, x, y FROM history_placements GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) d`)[0]!.n);

  beforeAll(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    admin = postgres(pg.url, { max: 1, onnotice: () => undefined });
    redisAdmin = new Redis(redis.url);
  }, 120_000);
  beforeEach(async () => {
    await admin.unsafe("DROP SCHEMA public CASCADE; CREATE SCHEMA public;").simple();
    await redisAdmin.flushall();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });
  afterAll(async () => {
    await admin?.end();
    redisAdmin?.disconnect();
    await Promise.all([redis?.stop(), pg?.stop()]);
  });

  it("archives every canvas seq by seq (pixels, previous colours, authors, times), and a second pass appends nothing", async () => {
    const store = await openStore();
    const random = new Prng(12);
    for (let i = 0; i < 120; i++) {
      const { pixels, runs } = randomBatch(() => random.next() / 2 ** 32, W, H, random.between(1, 300));
      await store.setPixels(i % 3 === 0 ? "b" : "a", pixels, "someone", runs);
    }
    const log = await openLog();
    const source = openSource();
    const archiver = new Archiver({ source, log, logger });
    expect(await archiver.runOnce()).toBe(120);
    expect(await archiver.runOnce()).toBe(0);
    expect((await expectLogEqualsHistory(log, source, "a")) + (await expectLogEqualsHistory(log, source, "b"))).toBe(120);
    expect(await duplicatePlacements()).toBe(0);
  });

  it("records the seqs the stream trimmed before archiving as a gap, and a reset as a new epoch archived from seq 1", async () => {
    const store = await openStore(5);
    for (let i = 0; i < 400; i++) await store.setPixels("a", [{ x: i % W, y: 0, color: i }], "");
    const log = await openLog();
    const source = openSource();
    const archiver = new Archiver({ source, log, logger });
    await archiver.runOnce();
    const slice = await source.read("a", 0, 1000);
    const first = slice.firstRetainedSeq!;
    expect(first).toBeGreaterThan(1);
    const page = await log.batches("a", slice.epoch, 0, 1_000_000);
    expect(page.gaps).toEqual([{ canvasId: "a", epoch: slice.epoch, fromSeq: 1, toSeq: first - 1 }]);
    expect(page.batches.map((b) => b.seq)).toEqual(Array.from({ length: 400 - first + 1 }, (_, i) => first + i));
    const { epoch } = await store.reset("a");
    for (let i = 0; i < 3; i++) await store.setPixels("a", [{ x: i, y: 1, color: i }], "");
    await archiver.runOnce();
    expect(await log.lastArchived("a")).toEqual({ epoch, seq: 3 });
    expect((await allLogged(log, "a", epoch)).map((b) => b.seq)).toEqual([1, 2, 3]);
  });

  it(`catches up after the database stops mid-write (pg_ctl stop -m immediate, ${OUTAGE_MS / 1000} s) with no seq lost or duplicated`, async () => {
    const store = await openStore();
    const log = await openLog();
    const source = openSource();
    const archiver = new Archiver({ source, log, logger });
    closers.push(() => archiver.stop());
    archiver.start();
    const random = new Prng(7);
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const { pixels, runs } = randomBatch(() => random.next() / 2 ** 32, W, H, random.between(200, 2000));
        await store.setPixels("a", pixels, "", runs);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await waitFor("archiving under way", async () => ((await log.lastArchived("a").catch(() => undefined))?.seq ?? 0) > 20, 30_000);
    await pg.stopImmediate();
    const downAt = await store.currentSeq("a");
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await pg.restart();
    writing = false;
    await writer;
    const seq = await store.currentSeq("a");
    expect(seq).toBeGreaterThan(downAt);
    await waitFor("the archiver caught up", async () => ((await log.lastArchived("a").catch(() => undefined))?.seq ?? 0) === seq, 60_000, 100);
    expect(await expectLogEqualsHistory(log, source, "a")).toBe(seq);
    expect(await duplicatePlacements()).toBe(0);
  });
});

describe("Archiver from the embedded store", () => {
  it("archives the memory store's history with previous colours, and records what a restart lost as a gap", async () => {
    const { openPglitePlacementLog } = await import("./pglite-placement-log.js");
    const log: PlacementLog = await openPglitePlacementLog(undefined);
    try {
      const store = new MemoryCanvasStore({ width: W, height: H, bus: new MemoryPixelBus(), logger });
      const source = memoryHistorySource(store, ["default"]);
      const random = new Prng(3);
      for (let i = 0; i < 30; i++) {
        const { pixels, runs } = randomBatch(() => random.next() / 2 ** 32, W, H, random.between(1, 50));
        await store.setPixels("default", pixels, "", runs);
      }
      const archiver = new Archiver({ source, log, logger });
      expect(await archiver.runOnce()).toBe(30);
      expect(await expectLogEqualsHistory(log, source, "default")).toBe(30);
      const { epoch } = await store.getCanvas("default");
      // Another store on the same epoch without the history (as after a graceful restart): seqs 31..32 are gone.
      const after = { epoch, seq: 32, firstRetainedSeq: undefined, entries: [] };
      await new Archiver({ source: { canvasIds: async () => ["default"], read: async () => after }, log, logger }).runOnce();
      expect((await log.batches("default", epoch, 30, 10)).gaps).toEqual([{ canvasId: "default", epoch, fromSeq: 31, toSeq: 32 }]);
      await store.close();
    } finally {
      await log.close();
    }
  });
});
