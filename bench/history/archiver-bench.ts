import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { pino } from "pino";
import { HISTORY_MAX_BATCHES } from "../../services/canvas/canvas-store.js";
import { RedisCanvasStore } from "../../services/canvas/redis-canvas-store.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startPostgres } from "../../tools/process/postgres-server.js";
import { startRedis } from "../../tools/process/redis-server.js";
import { startService } from "../../tools/process/service-process.js";
import { Prng } from "../../tools/prng.js";
import { parseFlags, UsageError } from "../flags.js";
import { LatencyHistogram, summarizeMicros } from "../latency-histogram.js";
import { collectRunInfo } from "../run-info.js";

const DEFAULTS = {
  /** Seconds of sustained writing (an outage happens inside them). */
  seconds: 30,
  /** Pixels per second written through the canvas store's write script. */
  rate: 50_000,
  /** Pixels per batch (several users' runs). */
  "batch-pixels": 500,
  width: 2048,
  height: 2048,
  /** Seconds the database is stopped (pg_ctl stop -m immediate) mid-run; 0 for none. */
  "outage-seconds": 0,
  /** Seconds after the start at which the outage begins. */
  "outage-at": 5,
  out: "bench/results",
};

/** How often the benchmark asks the log which seqs it holds; lags are measured to this resolution. */
const POLL_MS = 20;
const CANVAS = "bench";

/**
 * `npm run bench -- archiver`: a private Redis and PostgreSQL, the archiver as its own process
 * (dist/services/history/main.js), and a writer storing `rate` pixels/s through the canvas store's
 * write script. Every POLL_MS the benchmark reads which seqs the log holds: a batch's lag is the
 * time from when it was stored until it was first seen in the log. With --outage-seconds the
 * database is stopped immediately mid-run and restarted; the result then says how long the archiver
 * took to hold again every seq written before the restart. At the end the log must hold every seq
 * 1..N exactly once, with no gap: otherwise the run fails.
 */
export async function runArchiverBench(argv: string[], log: (m: string) => void): Promise<void> {
  const flags = parseFlags(argv, DEFAULTS);
  const batchesPerSecond = flags.rate / flags["batch-pixels"];
  if (batchesPerSecond * (flags["outage-seconds"] + 5) > HISTORY_MAX_BATCHES) {
    throw new UsageError(`at ${batchesPerSecond} batches/s the Redis history (${HISTORY_MAX_BATCHES} batches) cannot cover a ${flags["outage-seconds"]} s outage: raise --batch-pixels`);
  }
  const run = await collectRunInfo(["archiver", ...argv]);
  const [redis, pg] = await Promise.all([startRedis({ appendfsync: "everysec" }), startPostgres()]);
  const logger = pino({ level: "silent" });
  const store = new RedisCanvasStore({ redis: redis.url, width: flags.width, height: flags.height, logger });
  const port = await freePort();
  const archiver = await startService("bench-archiver", "services/history/main.js", {
    REDIS_URL: redis.url, HISTORY_DATABASE_URL: pg.url, CANVAS_IDS: `${CANVAS}:${flags.width}x${flags.height}`, ARCHIVER_HTTP_PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn",
  }, `http://127.0.0.1:${port}/healthz`);
  let watcher = postgres(pg.url, { max: 1, onnotice: () => undefined });
  const stored = new Map<number, number>();
  const steady = LatencyHistogram.create();
  const all = LatencyHistogram.create();
  let seen = 0;
  let failedWrites = 0;
  let pixels = 0;
  let outage: { downAt: number; upAt: number; seqAtUp: number; caughtUpAt?: number } | undefined;
  try {
    await waitFor("store ready", () => store.isReady());
    const random = new Prng(5);
    const start = Date.now();
    const end = start + flags.seconds * 1000;
    let written = 0;
    const writer = (async () => {
      while (Date.now() < end) {
        const due = ((Date.now() - start) / 1000) * flags.rate;
        while (written < due) {
          const px = Array.from({ length: flags["batch-pixels"] }, () => ({ x: random.int(flags.width), y: random.int(flags.height), color: random.int(0x1000000) }));
          const half = Math.floor(px.length / 2);
          const runs = [
            { pixelCount: half, userKey: `u${random.int(1000)}`, ipKey: "", author: { userId: `u${random.int(1000)}`, name: "a" } },
            { pixelCount: px.length - half, userKey: `u${random.int(1000)}`, ipKey: "", author: { userId: `u${random.int(1000)}`, name: "b" } },
          ].filter((r) => r.pixelCount > 0);
          written += px.length;
          try {
            const { seq } = await store.setPixels(CANVAS, px, "", runs);
            stored.set(seq, Date.now());
          } catch (err) {
            // A timed-out write may still land (and be archived); it just has no lag sample.
            failedWrites += 1;
            if (failedWrites === 1) log(`a write failed (${(err as Error).message}); counting failures`);
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const outageRun = (async () => {
      if (flags["outage-seconds"] <= 0) return;
      await new Promise((r) => setTimeout(r, flags["outage-at"] * 1000));
      log(`stopping the database for ${flags["outage-seconds"]} s`);
      const downAt = Date.now();
      await pg.stopImmediate();
      await new Promise((r) => setTimeout(r, flags["outage-seconds"] * 1000));
      await pg.restart();
      outage = { downAt, upAt: Date.now(), seqAtUp: await store.currentSeq(CANVAS) };
      log(`database back; seq ${outage.seqAtUp} written so far`);
    })();
    let epoch: number | undefined;
    const poll = async () => {
      try {
        if (epoch === undefined) {
          const rows = await watcher`SELECT max(epoch) AS e FROM history_batches`;
          if (rows[0]?.e === null || rows[0]?.e === undefined) return;
          epoch = Number(rows[0].e);
        }
        const rows = await watcher`SELECT seq FROM history_batches WHERE epoch = ${epoch} AND seq > ${seen} ORDER BY seq`;
        const now = Date.now();
        for (const r of rows) {
          const seq = Number(r.seq);
          const at = stored.get(seq);
          if (at !== undefined) {
            all.record((now - at) * 1000);
            if (outage === undefined && Date.now() < end) steady.record((now - at) * 1000);
          }
          seen = Math.max(seen, seq);
        }
        if (outage && outage.caughtUpAt === undefined && seen >= outage.seqAtUp) outage.caughtUpAt = now;
      } catch {
        // The database is down (outage): reconnect on the next poll.
        await watcher.end({ timeout: 0 }).catch(() => undefined);
        watcher = postgres(pg.url, { max: 1, onnotice: () => undefined });
      }
    };
    while (Date.now() < end) {
      await poll();
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await writer;
    await outageRun;
    pixels = written;
    const finalSeq = await store.currentSeq(CANVAS);
    await waitFor("the archiver holding every seq", async () => {
      await poll();
      return seen >= finalSeq;
    }, 300_000, POLL_MS);
    const [check] = await watcher`
      SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi, (SELECT count(*) FROM history_gaps) AS gaps,
        (SELECT count(*) FROM (SELECT 1 FROM history_placements GROUP BY canvas, epoch, seq, x, y HAVING count(*) > 1) d) AS dups
      FROM history_batches WHERE epoch = ${epoch!}`;
    const verdict = { batches: Number(check!.n), lowest: Number(check!.lo), highest: Number(check!.hi), gaps: Number(check!.gaps), duplicatePlacements: Number(check!.dups) };
    const complete = verdict.batches === finalSeq && verdict.lowest === 1 && verdict.highest === finalSeq && verdict.gaps === 0 && verdict.duplicatePlacements === 0;
    const steadyLag = summarizeMicros(steady);
    const result = {
      scenario: "archiver",
      run,
      parameters: flags,
      headline: {
        pixelsPerSecond: Math.round(pixels / flags.seconds),
        steadyLagP99Ms: steadyLag.p99Ms,
        steadyLagMaxMs: steadyLag.maxMs,
        ...(outage ? { catchUpSeconds: outage.caughtUpAt === undefined ? null : (outage.caughtUpAt - outage.upAt) / 1000 } : {}),
        complete,
      },
      steadyLag,
      lagIncludingOutage: summarizeMicros(all),
      outage,
      verdict,
      failedWrites,
      notes: [`Lag measured by polling the log every ${POLL_MS} ms (resolution).`, "Steady lag: batches seen before any outage began."],
    };
    mkdirSync(flags.out, { recursive: true });
    const file = join(flags.out, `archiver-${run.startedAt.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(`${JSON.stringify(result.headline)}\nwrote ${file}\n`);
    if (!complete) throw new Error(`the log does not hold every seq 1..${finalSeq} exactly once: ${JSON.stringify(verdict)}`);
  } finally {
    await watcher.end({ timeout: 1 }).catch(() => undefined);
    await archiver.stop();
    await store.close();
    await Promise.all([redis.stop(), pg.stop()]);
  }
}
