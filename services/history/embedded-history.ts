import type { CanvasStore } from "../canvas/canvas-store.js";
import { MemoryCanvasStore } from "../canvas/memory-canvas-store.js";
import type { Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import { Archiver } from "./archiver.js";
import { historyDatabase } from "./history-config.js";
import { memoryHistorySource } from "./memory-history-source.js";
import { openPlacementLog } from "./open-placement-log.js";
import type { PlacementLog } from "./placement-log.js";
import { RedisHistorySource } from "./redis-history-source.js";

/** The placement log of a single-process run (`npm start`) and the archiver that fills it. */
export interface LocalHistory {
  /** The log, or undefined when history is off (`reason` says why). */
  log: PlacementLog | undefined;
  reason: string | undefined;
  /** Stops the archiver after one last pass, then closes the log; call before closing the store. */
  close(): Promise<void>;
}

/**
 * Opens the history of `npm start`: the placement log the configuration names (PGlite under
 * DATA_DIR/history on the embedded store, PostgreSQL with HISTORY_DATABASE_URL, off with REDIS_URL
 * alone) and, when there is one, an in-process archiver reading the store's history (the embedded
 * store's memory, or the Redis streams).
 */
export async function startLocalHistory(config: Config, store: CanvasStore, logger: Logger): Promise<LocalHistory> {
  const db = historyDatabase(config);
  const log = await openPlacementLog(db);
  if (log === undefined) {
    const reason = db.kind === "off" ? db.reason : "history is off";
    logger.warn(reason);
    return { log, reason, close: async () => undefined };
  }
  const redisSource = config.redisUrl !== undefined ? new RedisHistorySource(config.redisUrl, config.canvasIds) : undefined;
  let source;
  if (redisSource !== undefined) source = redisSource;
  else if (store instanceof MemoryCanvasStore) source = memoryHistorySource(store, config.canvasIds);
  else throw new Error("the embedded history needs the embedded store or REDIS_URL");
  const archiver = new Archiver({ source, log, logger });
  archiver.start();
  logger.info({ database: db.kind === "pglite" ? db.dataDir : "postgres (HISTORY_DATABASE_URL)" }, "placement log open; archiving canvas history");
  return {
    log,
    reason: undefined,
    async close() {
      await archiver.stop();
      await log.close();
      await redisSource?.close();
    },
  };
}
