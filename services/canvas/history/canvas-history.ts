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
  if (config.redis !== undefined) {
    source = new RedisHistorySource(config.redis, config.canvasIds);
    bans = new RedisBanList(config.redis, logger.child({ component: "bans" }));
  } else if (store instanceof MemoryCanvasStore) {
    source = memoryHistorySource(store, config.canvasIds);
    bans = new MemoryBanList();
  } else {
    throw new Error("history needs the embedded store or REDIS_URL");
  }
  await bans.start();
  if (config.redis === undefined || options.archiveInProcess) {
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
  if (db.kind === "off") logger.warn(db.reason);
  // The database may be down when this replica starts (a rollout during an outage): serve at once,
  // open the log in the background until it answers, and fail history calls Unavailable until then.
  const opening = db.kind === "off" ? undefined : openUntilReachable(() => openPlacementLog(db), logger);
  const log = opening === undefined ? undefined : failFastLog(opening);
  return {
    deps: { source, log, bans, undo },
    close: async () => {
      await opening?.close();
      await bans.close();
      await source.close?.();
    },
  };
}

/** Retry interval while the placement log database is unreachable at start. */
const LOG_OPEN_RETRY_MS = 2_000;

/**
 * Opens the log, retrying every LOG_OPEN_RETRY_MS while the database is unreachable; `log` resolves
 * once it opens (or undefined when closed first); `problem` says why it is not open yet.
 */
function openUntilReachable(open: () => Promise<PlacementLog | undefined>, logger: Logger): { log: Promise<PlacementLog | undefined>; problem: () => string | undefined; close: () => Promise<void> } {
  let problem: string | undefined = "the placement log database is opening";
  let closed = false;
  let wake: (() => void) | undefined;
  const log = (async () => {
    while (!closed) {
      try {
        const opened = await open();
        problem = undefined;
        if (closed) await opened?.close();
        return closed ? undefined : opened;
      } catch (err) {
        problem = `the placement log database is not reachable: ${(err as Error).message}`;
        logger.warn({ err: (err as Error).message }, "placement log database not reachable; retrying");
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, LOG_OPEN_RETRY_MS).unref();
        });
      }
    }
    return undefined;
  })();
  return {
    log,
    problem: () => problem,
    close: async () => {
      closed = true;
      wake?.();
      await (await log)?.close();
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

/** A placement log being opened by openUntilReachable: until it is open, every call fails Unavailable with the reason. */
function failFastLog(opening: { log: Promise<PlacementLog | undefined>; problem: () => string | undefined }): PlacementLog {
  let current: PlacementLog | undefined;
  void opening.log.then((log) => (current = log));
  return new Proxy({} as PlacementLog, {
    get: (_target, method: keyof PlacementLog) => async (...args: unknown[]) => {
      if (current === undefined) throw new LogUnavailableError(opening.problem() ?? "the placement log is closed");
      return (current[method] as (...a: unknown[]) => Promise<unknown>).apply(current, args);
    },
  });
}
