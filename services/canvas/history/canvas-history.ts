import type { Config } from "../../shared/config.js";
import type { Logger } from "../../shared/logger.js";
import { startLocalHistory, type LocalHistory } from "../../history/embedded-history.js";
import { historyDatabase } from "../../history/history-config.js";
import type { HistorySource } from "../../history/history-source.js";
import { memoryHistorySource } from "../../history/memory-history-source.js";
import { openPlacementLog } from "../../history/open-placement-log.js";
import { LogUnavailableError, type PlacementLog } from "../../history/placement-log.js";
import { RedisHistorySource } from "../../history/redis-history-source.js";
import type { CanvasHistoryDeps } from "../canvas-server.js";
import type { CanvasStore } from "../canvas-store.js";
import { MemoryCanvasStore } from "../memory-canvas-store.js";
import { MemoryBanList, type BanList } from "./ban-list.js";
import { loadUndoSettings } from "./history-settings.js";
import { RedisBanList } from "./redis-ban-list.js";

/** The canvas service's history features, opened, with what closes them. */
export interface CanvasHistory {
  deps: CanvasHistoryDeps;
  /** Stops the in-process archiver (if any), closes the log, the bans and the history reader; call before closing the store. */
  close(): Promise<void>;
}

/**
 * Opens what the HistoryService needs from the configuration: the store's retained history (the
 * Redis streams, or the embedded store's memory) for undo; the bans (Redis, or this process's
 * memory); and the placement log. With REDIS_URL the log is PostgreSQL at HISTORY_DATABASE_URL,
 * filled by the separate archiver process (`services/history/main.ts`), or off without it. Without
 * REDIS_URL (a lone canvas service), or with `archiveInProcess` (`npm start`), it is the local
 * history (startLocalHistory): PGlite under DATA_DIR/history (or HISTORY_DATABASE_URL) with an
 * in-process archiver.
 */
export async function openCanvasHistory(config: Config, store: CanvasStore, logger: Logger, options: { archiveInProcess: boolean }): Promise<CanvasHistory> {
  const undo = loadUndoSettings();
  let source: HistorySource & { close?: () => Promise<void> };
  let bans: BanList;
  if (config.redisUrl !== undefined) {
    source = new RedisHistorySource(config.redisUrl, config.canvasIds);
    bans = new RedisBanList(config.redisUrl, logger.child({ component: "bans" }));
  } else if (store instanceof MemoryCanvasStore) {
    source = memoryHistorySource(store, config.canvasIds);
    bans = new MemoryBanList();
  } else {
    throw new Error("history needs the embedded store or REDIS_URL");
  }
  await bans.start();
  if (config.redisUrl === undefined || options.archiveInProcess) {
    // PGlite takes seconds to start: serve at once, and let calls that need the log wait for it.
    const local = startLocalHistory(config, store, logger.child({ component: "history" }));
    const log = historyDatabase(config).kind === "off" ? undefined : deferredLog(local);
    return {
      deps: { source, log, bans, undo },
      close: async () => {
        await local.close();
        await bans.close();
        await source.close?.();
      },
    };
  }
  const db = historyDatabase(config);
  const log = await openPlacementLog(db);
  if (log === undefined && db.kind === "off") logger.warn(db.reason);
  return {
    deps: { source, log, bans, undo },
    close: async () => {
      await log?.close();
      await bans.close();
      await source.close?.();
    },
  };
}

/**
 * A placement log still opening: every call waits for it, then runs on it; while the database
 * cannot be opened, calls fail as the open did.
 */
function deferredLog(local: LocalHistory): PlacementLog {
  const ready = local.log.then((log) => {
    if (log === undefined) throw new LogUnavailableError(local.problem() ?? "history is off");
    return log;
  });
  // Nobody may be calling yet: an early failure is reported by the calls, not as unhandled.
  ready.catch(() => undefined);
  return new Proxy({} as PlacementLog, {
    get: (_target, method: keyof PlacementLog) => async (...args: unknown[]) => {
      const log = await ready;
      return (log[method] as (...a: unknown[]) => Promise<unknown>).apply(log, args);
    },
  });
}
