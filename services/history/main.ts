import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, loadConfig } from "../shared/config.js";
import { handleProbe } from "../shared/probe-routes.js";
import { createLogger } from "../shared/logger.js";
import { drainOnSignal } from "../shared/shutdown-signal.js";
import { Archiver, ARCHIVE_MAX_BACKOFF_MS } from "./archiver.js";
import { openPostgresPlacementLog } from "./postgres-placement-log.js";
import { RedisHistorySource } from "./redis-history-source.js";

/**
 * Entry point of the history archiver of a Redis deployment (`npm run start:archiver`): copies every
 * canvas's Redis history stream into the PostgreSQL placement log at HISTORY_DATABASE_URL, resuming
 * from the log's last seq after any restart. Run one replica; a second one is harmless (appends are
 * idempotent) but does the work twice. /healthz, /readyz (ready while passes succeed) and /metrics on
 * ARCHIVER_HTTP_PORT. SIGTERM/SIGINT: one last pass, then exit 0.
 */
/** Default port of the archiver's probes and metrics. */
const ARCHIVER_HTTP_PORT = 3004;

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
  if (config.redis === undefined || !dbUrl) {
    logger.fatal("the archiver needs REDIS_URL or REDIS_CLUSTER_NODES (the canvas store) and HISTORY_DATABASE_URL (postgres://...); under npm start it runs inside the process");
    process.exit(2);
  }
  const port = Number(process.env.ARCHIVER_HTTP_PORT ?? ARCHIVER_HTTP_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    logger.fatal("ARCHIVER_HTTP_PORT must be a port number (0 to 65535)");
    process.exit(2);
  }
  let archiver: Archiver | undefined;
  const ready = () => (archiver === undefined ? "placement log database not reachable yet" : archiver.problem());
  const probes = createServer((req, res) => {
    if (!handleProbe(req, res, ready)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    probes.once("error", reject);
    probes.listen(port, config.host, () => resolve());
  });
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
  const source = new RedisHistorySource(config.redis, config.canvasIds);
  const running = new Archiver({ source, log, logger });
  archiver = running;
  running.start();
  logger.info({ canvases: config.canvasIds, probes: `http://${config.host}:${(probes.address() as AddressInfo).port}` }, "archiving canvas history into the placement log");
  drainOnSignal(
    logger,
    async () => {
      await running.stop();
      probes.close();
      await Promise.all([log.close(), source.close()]);
    },
    1,
  );
}

main().catch((err: unknown) => {
  createLogger("history-archiver").fatal({ err }, "history archiver failed to start");
  process.exit(1);
});
