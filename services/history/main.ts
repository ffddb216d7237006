import { ConfigError, loadConfig } from "../shared/config.js";
import { createLogger } from "../shared/logger.js";
import { drainOnSignal } from "../shared/shutdown-signal.js";
import { Archiver, ARCHIVE_MAX_BACKOFF_MS } from "./archiver.js";
import { openPostgresPlacementLog } from "./postgres-placement-log.js";
import { RedisHistorySource } from "./redis-history-source.js";

/**
 * Entry point of the history archiver of a Redis deployment (`npm run start:archiver`): copies every
 * canvas's Redis history stream into the PostgreSQL placement log at HISTORY_DATABASE_URL, resuming
 * from the log's last seq after any restart. Run one replica; a second one is harmless (appends are
 * idempotent) but does the work twice. SIGTERM/SIGINT: one last pass, then exit 0.
 */
async function main(): Promise<void> {
  const logger = createLogger("history-archiver");
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal(err.message);
      process.exit(2);
    }
    throw err;
  }
  logger.level = config.logLevel;
  const dbUrl = process.env.HISTORY_DATABASE_URL;
  if (config.redisUrl === undefined || !dbUrl) {
    logger.fatal("the archiver needs REDIS_URL (the canvas store) and HISTORY_DATABASE_URL (postgres://...); under npm start it runs inside the process");
    process.exit(2);
  }
  // The database may come up after us: wait for it rather than crash-loop.
  let log;
  for (;;) {
    try {
      log = await openPostgresPlacementLog(dbUrl);
      break;
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "placement log database not reachable yet; retrying");
      await new Promise((r) => setTimeout(r, ARCHIVE_MAX_BACKOFF_MS));
    }
  }
  const source = new RedisHistorySource(config.redisUrl, config.canvasIds);
  const archiver = new Archiver({ source, log, logger });
  archiver.start();
  logger.info({ canvases: config.canvasIds }, "archiving canvas history into the placement log");
  drainOnSignal(
    logger,
    async () => {
      await archiver.stop();
      await Promise.all([log.close(), source.close()]);
    },
    1,
  );
}

main().catch((err: unknown) => {
  createLogger("history-archiver").fatal({ err }, "history archiver failed to start");
  process.exit(1);
});
