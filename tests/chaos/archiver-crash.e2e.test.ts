import postgres from "postgres";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startPostgres, type TestPostgres } from "../../tools/process/postgres-server.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { Prng } from "../../tools/prng.js";
import { RedisCanvasStore } from "../../services/canvas/redis-canvas-store.js";
import { openPostgresPlacementLog } from "../../services/history/postgres-placement-log.js";
import type { PlacementLog } from "../../services/history/placement-log.js";
import { RedisHistorySource } from "../../services/history/redis-history-source.js";
import { expectLogEqualsHistory, randomBatch } from "../../services/history/test-support/archive-check.js";

const logger = pino({ level: "silent" });
const W = 512;
const H = 512;
/** Crashes of each kind. */
const ROUNDS = 3;
/** How long to wait for an archiver INSERT to be in flight before crashing anyway. */
const CATCH_APPEND_MS = 15_000;
/** Pause between the writer's batches: a steady flow of about 40,000 pixels/s, well within what the archiver keeps up with. */
const WRITE_PAUSE_MS = 50;

/**
 * Crash tests of the placement log (issue 12): the archiver process is killed with SIGKILL, and the
 * database with SIGKILL of every server process, each while an append is running (seen in
 * pg_stat_activity). After every restart the log must equal the Redis history, seq by seq: no seq
 * lost, none duplicated.
 */
describe("archiver and database crashes mid-append", () => {
  let redis: TestRedis;
  let pg: TestPostgres;
  let store: RedisCanvasStore;
  let source: RedisHistorySource;
  let archiver: ServiceProcess | undefined;
  let env: Record<string, string>;
  let probe: string;

  beforeAll(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    store = new RedisCanvasStore({ redis: redis.url, width: W, height: H, logger });
    source = new RedisHistorySource(redis.url, ["crash"]);
    const port = await freePort();
    env = { REDIS_URL: redis.url, HISTORY_DATABASE_URL: pg.url, CANVAS_IDS: "crash:512x512", ARCHIVER_HTTP_PORT: String(port), HOST: "127.0.0.1" };
    probe = `http://127.0.0.1:${port}/healthz`;
    await waitFor("store ready", () => store.isReady());
  }, 120_000);
  afterAll(async () => {
    await archiver?.stop();
    await store?.close();
    await source?.close();
    await Promise.all([redis?.stop(), pg?.stop()]);
  });

  /** Resolves true once an archiver INSERT is running on the server (or false after CATCH_APPEND_MS). */
  async function appendInFlight(): Promise<boolean> {
    const watcher = postgres(pg.url, { max: 1, onnotice: () => undefined });
    try {
      const deadline = Date.now() + CATCH_APPEND_MS;
      while (Date.now() < deadline) {
        const [row] = await watcher`SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'WITH ins AS%'`;
        if (Number(row!.n) > 0) return true;
      }
      return false;
    } finally {
      await watcher.end({ timeout: 1 });
    }
  }

  it("keeps the log equal to the Redis history through kill -9 of the archiver and of the database, each while an append runs", async () => {
    const random = new Prng(99);
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const { pixels, runs } = randomBatch(() => random.next() / 2 ** 32, W, H, random.between(1000, 4000));
        await store.setPixels("crash", pixels, "", runs);
        await new Promise((r) => setTimeout(r, WRITE_PAUSE_MS));
      }
    })();
    archiver = await startService("history-archiver-crash", "services/history/main.js", env, probe);
    let caught = 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (await appendInFlight()) caught += 1;
      await archiver.kill9();
      archiver = await startService("history-archiver-crash", "services/history/main.js", env, probe);
      if (await appendInFlight()) caught += 1;
      await pg.kill9();
      await new Promise((r) => setTimeout(r, 500));
      await pg.restart();
    }
    // Most crashes must have hit a running append, or the test proves little.
    expect(caught).toBeGreaterThanOrEqual(ROUNDS);
    writing = false;
    await writer;
    const seq = await store.currentSeq("crash");
    const log: PlacementLog = await openPostgresPlacementLog(pg.url);
    try {
      await waitFor("the archiver caught up", async () => (await log.lastArchived("crash"))?.seq === seq, 90_000, 200);
      expect(await expectLogEqualsHistory(log, source, "crash")).toBe(seq);
      const check = postgres(pg.url, { max: 1, onnotice: () => undefined });
      const [dups] = await check`SELECT count(*) AS n FROM (SELECT 1 FROM history_placements GROUP BY canvas, epoch, seq, x, y HAVING count(*) > 1) d`;
      await check.end();
      expect(Number(dups!.n)).toBe(0);
    } finally {
      await log.close();
    }
  }, 300_000);
});
