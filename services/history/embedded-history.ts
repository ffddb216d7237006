import type { CanvasStore } from "../canvas/canvas-store.js";
import { MemoryCanvasStore } from "../canvas/memory-canvas-store.js";
import type { Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import { Archiver } from "./archiver.js";
import { historyDatabase } from "./history-config.js";
import type { HistorySource } from "./history-source.js";
import { memoryHistorySource } from "./memory-history-source.js";
import { openPlacementLog } from "./open-placement-log.js";
import type { PlacementLog } from "./placement-log.js";
import { RedisHistorySource } from "./redis-history-source.js";
import { startPgliteWorker } from "./worker-placement-log.js";

/** The placement log of a single-process run (`npm start`) and the archiver that fills it. */
export interface LocalHistory {
  /**
   * Resolves to the log once it is open (PGlite takes a few seconds to start, so the process does
   * not wait for it), or to undefined when history is off or the log could not be opened: then
   * `problem()` says why.
   */
  log: Promise<PlacementLog | undefined>;
  /** Why there is no log (off, failed to open), or undefined while it is opening or open. */
  problem(): string | undefined;
  /** Stops the archiver after one last pass, then closes the log; call before closing the store. */
  close(): Promise<void>;
}

/**
 * Opens the history of `npm start` in the background: the placement log the configuration names
 * (PGlite under DATA_DIR/history on the embedded store, PostgreSQL with HISTORY_DATABASE_URL, off
 * with REDIS_URL alone) and, when there is one, an in-process archiver reading the store's history
 * (the embedded store's memory, or the Redis streams). Batches stored while the log opens are
 * archived once it is open: the store retains the last 10,000.
 */
export function startLocalHistory(config: Config, store: CanvasStore, logger: Logger): LocalHistory {
  const db = historyDatabase(config);
  if (db.kind === "off") {
    logger.warn(db.reason);
    return { log: Promise.resolve(undefined), problem: () => db.reason, close: async () => undefined };
  }
  let problem: string | undefined;
  let source: HistorySource;
  let redisSource: RedisHistorySource | undefined;
  if (config.redis !== undefined) source = redisSource = new RedisHistorySource(config.redis, config.canvasIds);
  else if (store instanceof MemoryCanvasStore) source = memoryHistorySource(store, config.canvasIds);
  else throw new Error("the local history needs the embedded store or REDIS_URL");
  let archiver: Archiver | undefined;
  let settled = false;
  let closing = false;
  const worker = db.kind === "pglite" ? startPgliteWorker(db.dataDir) : undefined;
  const log = (worker?.log ?? openPlacementLog(db)).then(
    (opened) => {
      settled = true;
      archiver = new Archiver({ source, log: opened!, logger });
      archiver.start();
      logger.info({ database: db.kind === "pglite" ? db.dataDir : "postgres (HISTORY_DATABASE_URL)" }, "placement log open; archiving canvas history");
      return opened;
    },
    (err: Error) => {
      settled = true;
      problem = closing ? "history is closed" : `the placement log could not be opened: ${err.message}`;
      if (closing) logger.info("stopped the placement log while it was still opening");
      else logger.error({ err: err.message }, problem);
      return undefined;
    },
  );
  return {
    log,
    problem: () => problem,
    async close() {
      // Still starting (PGlite): stop it rather than wait; nothing was archived into it yet.
      closing = true;
      if (!settled && worker !== undefined) await worker.terminate();
      const opened = await log;
      await archiver?.stop();
      await opened?.close();
      await redisSource?.close();
    },
  };
}
