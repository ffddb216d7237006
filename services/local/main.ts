import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createCanvasServer } from "../canvas/canvas-server.js";
import { createCanvasBackend } from "../canvas/create-canvas-store.js";
import { createGatewayServer } from "../gateway/transport/gateway-server.js";
import { DEFAULT_TUNING } from "../gateway/gateway-tuning.js";
import { MemoryPresenceStore, RedisPresenceStore, type PresenceStore } from "../gateway/presence/presence.js";
import { ConfigError, loadConfig, type Config } from "../shared/config.js";
import { createLogger, type Logger } from "../shared/logger.js";
import { describeRedis } from "../shared/redis-connection.js";
import { handleProbe } from "../shared/probe-routes.js";
import { createStaticHandler, webDistDir } from "../shared/static-files.js";
import { EMBEDDED_STAGE_DRAIN_MS } from "../shared/timing.js";
import { drainOnSignal } from "../shared/shutdown-signal.js";
import { openCanvasHistory } from "../canvas/history/canvas-history.js";
import { loadSecurityConfig } from "../shared/security-config.js";
import { loadSessionKeys } from "../shared/session-keys.js";
import { createSessionIssuer, isPageRequest } from "../shared/session-issuer.js";

/**
 * The whole system in one process at one URL (WEB_PORT, default 3000): the web app,
 * the canvas API at /api (Connect over HTTP/1.1) and the WebSocket gateway at /ws.
 * The canvas service also listens on CANVAS_GRPC_PORT (h2c) for gRPC tools, and the
 * gateway persists through it exactly as a separate gateway would.
 * Without REDIS_URL it runs on the embedded store and bus, saved under DATA_DIR, and archives every
 * batch into the placement log (PGlite under DATA_DIR/history, or HISTORY_DATABASE_URL).
 */

/**
 * The canvases `npm start` seeds unless CANVAS_IDS says otherwise: the 50x50 default (the first
 * run looks as it always did) and `big`, a 2048x2048 demo at /c/big to zoom and pan around. 2048
 * is the largest side GetCanvas still returns whole (MAX_SNAPSHOT_PIXELS), which the gateway's
 * rooms snapshot with, and at 8x8 tiles it already needs the tiled overviews to zoom out.
 */
const LOCAL_CANVAS_IDS = "default,big:2048x2048";
async function main(log: Logger, config: Config): Promise<void> {
  const security = loadSecurityConfig();
  const identity = { tokens: loadSessionKeys(config, security, "embedded"), security };
  const sessions = createSessionIssuer(identity.tokens, security, log.child({ component: "sessions" }));
  const { store, bus, registry, catalog } = createCanvasBackend(config, log.child({ component: "canvas" }));
  const history = await openCanvasHistory(config, store, log.child({ component: "history" }), { archiveInProcess: true });
  const canvas = createCanvasServer({ config, store, bus, catalog, logger: log.child({ component: "canvas" }), identity, history: history.deps });
  const grpc = await listen(canvas.grpcServer, config.canvasGrpcPort, config.host);

  const presence: PresenceStore = config.redis
    ? new RedisPresenceStore(config.redis, config.instanceId, DEFAULT_TUNING.presenceTtlMs, log)
    : new MemoryPresenceStore(config.instanceId, DEFAULT_TUNING.presenceTtlMs);
  const gateway = createGatewayServer({
    config,
    log: log.child({ component: "gateway" }),
    bus,
    presence,
    identity,
    canvas: `http://127.0.0.1:${grpc.port}`,
  });

  const serveStatic = createStaticHandler(webDistDir());
  const ready = () => {
    if (!canvas.isReady()) return "canvas store not ready";
    if (!gateway.gateway.isReady()) return "gateway not ready";
    return undefined;
  };
  const web = createServer((req, res) => {
    if (handleProbe(req, res, ready)) return;
    if (req.url?.startsWith("/api/")) return canvas.apiHandler(req, res);
    if (sessions.handle(req, res)) return;
    if (isPageRequest(req)) return void sessions.ensurePageCookie(req, res).then(() => serveStatic(req, res));
    serveStatic(req, res);
  });
  web.on("upgrade", (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  const entry = await listen(web, config.webPort, config.host);
  log.info(
    { url: `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${entry.port}`, grpc: `http://${config.host}:${grpc.port}`, store: config.redis ? describeRedis(config.redis) : `embedded (${config.dataDir})` },
    "Pixel Playground is up: web app, /api and /ws",
  );

  // Sockets first (1012, in-flight writes finish), then the canvas service, then the store's final save.
  drainOnSignal(
    log,
    async () => {
      const sockets = gateway.shutdown(EMBEDDED_STAGE_DRAIN_MS);
      web.closeIdleConnections();
      await sockets;
      await new Promise<void>((r) => web.close(() => r()));
      await canvas.shutdown(EMBEDDED_STAGE_DRAIN_MS);
      // The archiver's last pass reads the store's history, so it goes before the store.
      await history.close();
      await Promise.all([presence.close(), store.close(), registry.close()]);
      await bus.close();
    },
    1,
  );
}

function listen(server: { listen(port: number, host: string, cb: () => void): unknown; once(e: "error", l: (err: Error) => void): unknown; address(): unknown }, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

const log = createLogger("local");
try {
  await main(log, loadConfig({ CANVAS_IDS: LOCAL_CANVAS_IDS, ...process.env }));
} catch (err) {
  if (err instanceof ConfigError) log.fatal(err.message);
  else log.fatal({ err }, "failed to start");
  process.exit(err instanceof ConfigError ? 2 : 1);
}
