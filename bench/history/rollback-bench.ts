import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RedisCanvasStore } from "../../services/canvas/redis-canvas-store.js";
import { applyRollback, planRollback } from "../../services/canvas/history/rollback.js";
import { Archiver } from "../../services/history/archiver.js";
import { openPostgresPlacementLog } from "../../services/history/postgres-placement-log.js";
import { RedisHistorySource } from "../../services/history/redis-history-source.js";
import { createLogger } from "../../services/shared/logger.js";
import { waitFor } from "../../tools/process/free-port.js";
import { startPostgres } from "../../tools/process/postgres-server.js";
import { startRedis } from "../../tools/process/redis-server.js";
import { Prng } from "../../tools/prng.js";
import { parseFlags } from "../flags.js";
import { collectRunInfo } from "../run-info.js";

const DEFAULTS = {
  /** The vandal's placements (pixels of batches) to roll back. */
  placements: 100_000,
  /** Pixels per vandal batch. */
  "batch-pixels": 1_000,
  /** Placements by a good user over the vandal's pixels afterwards (kept by the rollback). */
  "good-placements": 1_000,
  width: 2048,
  height: 2048,
  out: "bench/results",
};

const CANVAS = "bench";

/**
 * `npm run bench -- rollback`: a vandal's N placements (random pixels of a width x height canvas
 * on a private Redis, written through the store's write script like any Place) and a good user's
 * repairs over some of them, archived by the archiver into a private PostgreSQL; then one Rollback
 * of the vandal as the RPC runs it (plan from the log, chunked conditional restores through the
 * store) is timed end to end. Fails unless the canvas afterwards is exactly the background plus the
 * good user's pixels. Goal: 100,000 placements in at most 5 s.
 */
export async function runRollbackBench(argv: string[], log: (m: string) => void): Promise<void> {
  const flags = parseFlags(argv, DEFAULTS);
  const run = await collectRunInfo(["rollback", ...argv]);
  const logger = createLogger("bench-rollback");
  logger.level = "warn";
  const [redis, pg] = await Promise.all([startRedis({ appendfsync: "everysec" }), startPostgres({ settings: { max_wal_size: "2GB" } })]);
  const shape = { width: flags.width, height: flags.height };
  const store = new RedisCanvasStore({ redis: redis.url, ...shape, logger, historyLimit: 1_000_000, shapeOf: () => shape });
  const source = new RedisHistorySource(redis.url, [CANVAS]);
  const placementLog = await openPostgresPlacementLog(pg.url);
  const archiver = new Archiver({ source, log: placementLog, logger });
  try {
    await waitFor("store ready", () => store.isReady(), 10_000, 20);
    const random = new Prng(7);
    const pixel = (color: number) => ({ x: random.int(flags.width), y: random.int(flags.height), color });
    const expected = new Map<number, number>();
    const vandal = { userId: "u_vandal", name: "vandal" };
    for (let done = 0; done < flags.placements; done += flags["batch-pixels"]) {
      const pixels = Array.from({ length: Math.min(flags["batch-pixels"], flags.placements - done) }, () => pixel(0xff0000));
      await store.setPixels(CANVAS, pixels, vandal.name, [{ pixelCount: pixels.length, userKey: vandal.userId, ipKey: "", author: vandal }]);
    }
    const good = { userId: "u_good", name: "good" };
    const repairs = Array.from({ length: flags["good-placements"] }, () => pixel(0x00aa00));
    for (let at = 0; at < repairs.length; at += 1_000) {
      const slice = repairs.slice(at, at + 1_000);
      for (const p of slice) expected.set(p.y * flags.width + p.x, p.color);
      await store.setPixels(CANVAS, slice, good.name, [{ pixelCount: slice.length, userKey: good.userId, ipKey: "", author: good }]);
    }
    const seq = await store.currentSeq(CANVAS);
    log(`wrote ${flags.placements} vandal placements and ${repairs.length} repairs (seq ${seq}); archiving`);
    archiver.start();
    const { epoch } = await store.getTile(CANVAS, { tx: 0, ty: 0 });
    await waitFor("archiver caught up", async () => (await placementLog.archivedSeq(CANVAS, epoch)) >= seq, 600_000, 100);
    log("archived; rolling the vandal back");
    const started = performance.now();
    const plan = await planRollback(store, placementLog, CANVAS, { userId: vandal.userId });
    const planned = performance.now();
    const result = await applyRollback(store, CANVAS, plan);
    const finished = performance.now();
    const snap = await store.getCanvas(CANVAS);
    for (let i = 0; i < flags.width * flags.height; i++) {
      const color = (snap.pixels[i * 3]! << 16) | (snap.pixels[i * 3 + 1]! << 8) | snap.pixels[i * 3 + 2]!;
      if (color !== (expected.get(i) ?? 0xffffff)) throw new Error(`after the rollback pixel (${i % flags.width}, ${Math.floor(i / flags.width)}) is ${color.toString(16)}, expected ${(expected.get(i) ?? 0xffffff).toString(16)}`);
    }
    const resultFile = {
      scenario: "rollback",
      run,
      parameters: flags,
      headline: { rollbackSeconds: Math.round(finished - started) / 1000, planSeconds: Math.round(planned - started) / 1000, writeSeconds: Math.round(finished - planned) / 1000 },
      placements: plan.placements,
      pixelsRestored: result.restored,
      pixelsSkipped: result.skipped,
      batchesWritten: result.seqs.length,
      notes: ["Timed: planRollback (log query) + applyRollback (chunked conditional restores through the Redis write script), as the Rollback RPC runs them.", "Private Redis (AOF everysec) and PostgreSQL on this machine; the canvas is checked pixel by pixel afterwards."],
    };
    mkdirSync(flags.out, { recursive: true });
    const file = join(flags.out, `rollback-${run.startedAt.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify(resultFile, null, 2) + "\n");
    process.stdout.write(`${JSON.stringify(resultFile.headline)}\nwrote ${file}\n`);
  } finally {
    await archiver.stop();
    await placementLog.close();
    await source.close();
    await store.close();
    await Promise.all([redis.stop(), pg.stop()]);
  }
}
