import type { AddressInfo } from "node:net";
import { ConfigError, loadConfig } from "../shared/config.js";
import { createLogger } from "../shared/logger.js";
import { describeRedis } from "../shared/redis-connection.js";
import { CANVAS_DRAIN_MS } from "../shared/timing.js";
import { drainOnSignal } from "../shared/shutdown-signal.js";
import { createCanvasServer } from "./canvas-server.js";
import { loadCanvasSettings } from "./canvas-settings.js";
import { createCanvasBackend } from "./create-canvas-store.js";
import { openCanvasHistory } from "./history/canvas-history.js";
import { loadSecurityConfig } from "../shared/security-config.js";
import { loadSessionKeys } from "../shared/session-keys.js";

/**
 * Entry point of the canvas service: gRPC/gRPC-Web/Connect on CANVAS_GRPC_PORT (h2c) and Connect
 * over HTTP/1.1 at /api plus /healthz, /readyz, /metrics on CANVAS_HTTP_PORT. SIGTERM/SIGINT drain
 * in-flight calls and streams, then flush the store, and exit 0 within SHUTDOWN_GRACE_MS.
 */
async function main(): Promise<void> {
  const logger = createLogger("canvas");
  let config;
  let settings;
  let identity;
  try {
    config = loadConfig();
    settings = loadCanvasSettings();
    const security = loadSecurityConfig();
    identity = { tokens: loadSessionKeys(config, security, "service"), security };
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal(err.message);
      process.exit(2);
    }
    throw err;
  }
  logger.level = config.logLevel;
  const { store, bus, registry, catalog } = createCanvasBackend(config, logger, settings);
  const history = await openCanvasHistory(config, store, logger, { archiveInProcess: false });
  const server = createCanvasServer({ config, store, bus, catalog, logger, identity, history: history.deps });

  const listen = (s: typeof server.grpcServer | typeof server.httpServer, port: number) =>
    new Promise<AddressInfo>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, config.host, () => resolve(s.address() as AddressInfo));
    });
  const grpc = await listen(server.grpcServer, config.canvasGrpcPort);
  const http = await listen(server.httpServer, config.canvasHttpPort);
  logger.info(
    { grpc: `http://${grpc.address}:${grpc.port}`, http: `http://${http.address}:${http.port}/api`, store: config.redis ? describeRedis(config.redis) : "embedded", instance: config.instanceId },
    "canvas service listening (gRPC, gRPC-Web, Connect on h2c; Connect over HTTP/1.1 at /api)",
  );

  // The store is flushed inside the grace period, after the servers drained.
  drainOnSignal(
    logger,
    () =>
      server
        .shutdown(CANVAS_DRAIN_MS)
        .then(() => history.close())
        .then(() => Promise.all([store.close(), registry.close()]))
        .then(() => bus.close()),
    1,
  );
}

main().catch((err: unknown) => {
  createLogger("canvas").fatal({ err }, "canvas service failed to start");
  process.exit(1);
});
