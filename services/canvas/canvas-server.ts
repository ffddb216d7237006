import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2Session } from "node:http2";
import { createContextValues, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import { forwardedClientAddress } from "../shared/ip-key.js";
import { handleProbe } from "../shared/probe-routes.js";
import type { PixelBus } from "../shared/pixel-bus.js";
import { SHUTDOWN_GRACE_MS, SHUTDOWN_SWEEP_MS } from "../shared/timing.js";
import { CALLER_ADDRESS } from "./caller-address.js";
import { createCanvasInterceptor } from "./canvas-interceptor.js";
import { CanvasCatalog } from "./canvas-catalog.js";
import { createCanvasRoutes } from "./canvas-routes.js";
import { MemoryCanvasRegistry } from "./memory-canvas-registry.js";
import type { CanvasStore } from "./canvas-store.js";
import { createHealthRoutes } from "./health-routes.js";
import { adminAccess } from "./admin-access.js";
import { closedCanvasIdentity, type CanvasIdentity } from "./canvas-identity.js";
import { publicApiGuard } from "./public-api-guard.js";
import { createTileHttpHandler } from "./tile-http-route.js";
import { TileReader } from "./tile-reader.js";
import { closeAfterDrainingUnreadRequest } from "./http1-lingering-close.js";
import { withUndecodableRequestsRefused } from "./undecodable-requests.js";
import { drainUnreadRequestAfterResponse } from "./unread-request-drain.js";
import type { HistorySource } from "../history/history-source.js";
import type { PlacementLog } from "../history/placement-log.js";
import type { BanList } from "./history/ban-list.js";
import { createExportHttpHandler } from "./history/export-http-route.js";
import { createHistoryRoutes } from "./history/history-routes.js";
import type { UndoSettings } from "./history/history-settings.js";

/** Path prefix of the Connect API on HTTP/1.1, as the Ingress and the local entry route it. */
export const API_PATH_PREFIX = "/api";

/**
 * Largest request body accepted. A full SetPixels (10,000 pixels) is about 140 KB in binary and
 * about 400 KB in JSON; anything bigger is refused before it is buffered.
 */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** What the canvas servers are built from; everything is injected. */
export interface CanvasServerDeps {
  config: Config;
  store: CanvasStore;
  bus: PixelBus;
  logger: Logger;
  /** The canvas registry with its seeds (see CanvasRoutesDeps.catalog for the default). */
  catalog?: CanvasCatalog;
  /** Session keys and admin credentials; unset means no admin credential and no session verifies (public writes refused). */
  identity?: CanvasIdentity;
  /** History (issue 12): the HistoryService, bans on every write, past GetCanvas/GetTile and /api/export; unset serves none of it. */
  history?: CanvasHistoryDeps;
}

/** What the history features are built from (see HistoryRoutesDeps). */
export interface CanvasHistoryDeps {
  /** The store's retained history with previous colours (undo). */
  source: HistorySource;
  /** The durable placement log; unset (Redis without HISTORY_DATABASE_URL) makes the calls that need it FailedPrecondition. */
  log?: PlacementLog;
  bans: BanList;
  undo: UndoSettings;
}

/** A plain Node request handler, as `http.createServer` takes. */
export type NodeRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The canvas service's servers, built but not listening. */
export interface CanvasServer {
  /** gRPC, gRPC-Web and Connect over HTTP/2 cleartext (CANVAS_GRPC_PORT). */
  grpcServer: Http2Server;
  /** Connect over HTTP/1.1 and tiles under /api, plus /healthz, /readyz and /metrics (CANVAS_HTTP_PORT). */
  httpServer: Server;
  /**
   * Connect over HTTP/1.1 for paths under /api/ (e.g. /api/pixel.v1.CanvasService/GetCanvas) and
   * tile images under /api/tiles/, for a process that mounts the API in its own server; other paths get 404.
   */
  apiHandler: NodeRequestHandler;
  /** True while the store and the canvas registry are ready and the server is not draining. */
  isReady(): boolean;
  /**
   * Drains: readiness turns false, every call's and stream's signal aborts (streams end, unary calls
   * finish), both servers stop accepting and close once idle, or are cut after `graceMs`. The store
   * is left open; the caller closes it afterwards.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * Builds the canvas service's servers from injected dependencies, without listening; only the
 * entry point (or a test, on port 0) calls `listen`.
 */
export function createCanvasServer(deps: CanvasServerDeps): CanvasServer {
  const shutdownController = new AbortController();
  let draining = false;
  const tiles = new TileReader(deps.store);
  const catalog = deps.catalog ?? new CanvasCatalog(new MemoryCanvasRegistry(), deps.config);
  // The registry has its own Redis connection, which may come back after the store's: ready means both answer.
  const isReady = () => !draining && deps.store.isReady() && catalog.isReady();
  const { tokens, security } = deps.identity ?? closedCanvasIdentity();
  const history = deps.history;
  const canvasRoutes = createCanvasRoutes({ ...deps, tiles, catalog, bans: history?.bans, log: history?.log });
  const historyRoutes = history === undefined ? undefined : createHistoryRoutes({ ...history, store: deps.store, catalog, tokens, logger: deps.logger });
  const tileHandler = createTileHttpHandler({ catalog, tiles, logger: deps.logger });
  const exportHandler = history === undefined ? () => false : createExportHttpHandler({ catalog, store: deps.store, log: history.log, logger: deps.logger });
  const healthRoutes = createHealthRoutes(isReady);
  const routes = withUndecodableRequestsRefused((router: ConnectRouter) => {
    canvasRoutes(router);
    historyRoutes?.(router);
    healthRoutes(router);
  });
  const admin = { credentials: security.adminCredentials, overPublicApi: security.adminOverPublicApi, logger: deps.logger };
  // The canvas interceptor is outermost, so refusals by the identity interceptors are counted and
  // mapped like any other failure. Authors a request names (who placed what, and their network
  // keys for the placement budgets) are honoured only on the internal h2c port, which only the
  // gateways reach; on the public /api, publicApiGuard replaces them with the caller's session.
  const failures = createCanvasInterceptor(deps.logger);
  const common = {
    routes,
    shutdownSignal: shutdownController.signal,
    readMaxBytes: MAX_REQUEST_BYTES,
    contextValues: (req: IncomingMessage | Http2ServerRequest) =>
      createContextValues().set(CALLER_ADDRESS, forwardedClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], deps.config.forwardedForHops) ?? ""),
  };

  const grpcHandler = connectNodeAdapter({ ...common, interceptors: [failures, adminAccess({ ...admin, surface: "internal" })] });
  const connectApiHandler = connectNodeAdapter({
    ...common,
    requestPathPrefix: API_PATH_PREFIX,
    interceptors: [failures, adminAccess({ ...admin, surface: "public" }), publicApiGuard({ tokens, sessions: security.sessions })],
  });
  // Wrapped here, not in httpServer, so the local entry's server that mounts it closes the same way.
  const apiHandler: NodeRequestHandler = closeAfterDrainingUnreadRequest((req, res) => {
    if (!tileHandler(req, res) && !exportHandler(req, res)) connectApiHandler(req, res);
  });

  const grpcServer = createHttp2Server(drainUnreadRequestAfterResponse(grpcHandler));
  const sessions = new Set<Http2Session>();
  grpcServer.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    // A client that vanishes mid-stream must not crash the process.
    session.on("error", (err) => deps.logger.debug({ err: err.message }, "http2 session error"));
  });

  const httpServer = createHttpServer((req, res) => {
    if (handleProbe(req, res, () => (isReady() ? undefined : draining ? "draining" : "the store or the canvas registry is not ready"))) return;
    apiHandler(req, res);
  });

  const closeServer = (server: Server | Http2Server) =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  return {
    grpcServer,
    httpServer,
    apiHandler,
    isReady,
    async shutdown(graceMs = SHUTDOWN_GRACE_MS) {
      draining = true;
      shutdownController.abort();
      const closed = Promise.all([closeServer(grpcServer), closeServer(httpServer)]);
      // GOAWAY: each session finishes its open streams, then closes.
      for (const session of sessions) session.close();
      // A keep-alive connection becomes idle only when its last call (e.g. a watch) ends: sweep again.
      httpServer.closeIdleConnections();
      const sweep = setInterval(() => httpServer.closeIdleConnections(), SHUTDOWN_SWEEP_MS);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
      const late = await Promise.race([closed.then(() => false), timedOut]);
      clearTimeout(timer);
      clearInterval(sweep);
      if (late) {
        deps.logger.warn({ graceMs }, "shutdown grace elapsed; closing the remaining connections");
        for (const session of sessions) session.destroy();
        httpServer.closeAllConnections();
        await closed;
      }
    },
  };
}
