import { join } from "node:path";
import type { Config } from "../shared/config.js";

/**
 * Where the placement log lives: PostgreSQL at HISTORY_DATABASE_URL when set; otherwise, on the
 * embedded default (no REDIS_URL), PGlite under DATA_DIR/history; with REDIS_URL and no database
 * URL, nowhere: history is off and the history RPCs say so (FailedPrecondition).
 */
export type HistoryDatabase = { kind: "postgres"; url: string } | { kind: "pglite"; dataDir: string } | { kind: "off"; reason: string };

/** Reads the history database from the environment and the loaded configuration. */
export function historyDatabase(config: Config, env: NodeJS.ProcessEnv = process.env): HistoryDatabase {
  const url = env.HISTORY_DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new RangeError("HISTORY_DATABASE_URL must be a postgres:// or postgresql:// URL");
    return { kind: "postgres", url };
  }
  if (config.redis === undefined) return { kind: "pglite", dataDir: join(config.dataDir, "history") };
  return { kind: "off", reason: "history is off: this deployment uses Redis (REDIS_URL or REDIS_CLUSTER_NODES) without HISTORY_DATABASE_URL; set it to a PostgreSQL URL and run the archiver (services/history/main.ts)" };
}
