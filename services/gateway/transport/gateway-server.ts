import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Transport } from "@connectrpc/connect";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { CloseCode } from "../../../gen/pixel/v1/realtime_pb.js";
import { MAX_FRAME_BYTES, type Config } from "../../shared/config.js";
import type { Logger } from "../../shared/logger.js";
import { handleProbe } from "../../shared/probe-routes.js";
import type { PixelBus } from "../../shared/pixel-bus.js";
import { createCanvasClient, createCanvasTransport, type CanvasClient } from "../upstream/canvas-client.js";
import type { Connection } from "../session/connection.js";
import { CLOSE_HANDSHAKE_WAIT_MS } from "../../shared/timing.js";
import { originAllowed } from "./origin-policy.js";
import { WsClientSocket } from "./ws-client-socket.js";
import { Gateway } from "../gateway.js";
import type { GatewayTuning } from "../gateway-tuning.js";
import type { PresenceStore } from "../presence/presence.js";
import { createSessionIssuer } from "../../shared/session-issuer.js";
import { SessionGate, openGatewayIdentity, type GatewayIdentity, type UpgradeIdentity } from "./session-gate.js";

/** Everything a gateway needs; the caller owns (and closes) bus and presence. */
export interface GatewayServerDeps {
  config: Config;
  log: Logger;
  bus: PixelBus;
  /** The canvas service: a client, a transport (e.g. an in-process router transport), or a base URL. Default: config.canvasUrl. */
  canvas?: CanvasClient | Transport | string;
  presence: PresenceStore;
  tuning?: Partial<GatewayTuning>;
  /** Session keys and limits; unset (unit tests) means sessions optional, no per-address cap. */
  identity?: GatewayIdentity;
}

/** A gateway ready to be mounted or started. */
export interface GatewayServer {
  /** Serves an HTTP upgrade for /ws (other paths get 404); mount it on any http.Server's 'upgrade'. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Serves /healthz, /readyz and /metrics; returns false for other paths so a host server can route them. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  /** An unstarted http.Server wiring both; only an entry point calls listen(). */
  server: Server;
  /** The logic behind the sockets (for tests and the embedding entry). */
  gateway: Gateway;
  /**
   * Drains: readiness false, in-flight writes finish for at most `writeWaitMs`, every
   * socket closes with 1012, timers stop, and the http.Server (if listening) closes.
   */
  shutdown(writeWaitMs?: number): Promise<void>;
}

/** One accepted socket as the transport sees it. */
interface Peer {
  conn: Connection;
  socket: WsClientSocket;
  /** Set on pong, cleared on ping: the heartbeat's own liveness of this socket. */
  alive: boolean;
}

function isCanvasClient(value: unknown): value is CanvasClient {
  return typeof value === "object" && value !== null && "setPixels" in value && "getCanvas" in value;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Builds the WebSocket gateway: `/ws` with binary protobuf frames, plus health,
 * readiness and metrics. The ws library is confined to the transport; everything it
 * hears goes to Connection/Gateway. Upgrades pass the Origin rules of origin-policy.ts with
 * config.allowedOrigins, whichever entry point embeds the gateway.
 */
export function createGatewayServer(deps: GatewayServerDeps): GatewayServer {
  const { config, log } = deps;
  const canvas = isCanvasClient(deps.canvas)
    ? deps.canvas
    : createCanvasClient(typeof deps.canvas === "object" ? deps.canvas : createCanvasTransport(deps.canvas ?? config.canvasUrl));
  const gateway = new Gateway({ config, log, bus: deps.bus, canvas, presence: deps.presence, tuning: deps.tuning });
  const allowedOrigins = config.allowedOrigins;
  // maxPayload makes ws close an oversized frame with 1009 before buffering it.
  // skipUTF8Validation: text frames are never read (each gets MALFORMED_FRAME), so an invalid UTF-8 one
  // must get that answer too instead of ws's undocumented close 1007.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false, skipUTF8Validation: true });
  const peers = new Map<WebSocket, Peer>();
  const identity = deps.identity ?? openGatewayIdentity();
  const sessionGate = new SessionGate(identity.tokens, identity.security);
  const sessionIssuer = createSessionIssuer(identity.tokens, identity.security, log);

  wss.on("connection", (ws: WebSocket, _req: IncomingMessage, who: UpgradeIdentity) => {
    ws.binaryType = "nodebuffer";
    const refusal = gateway.admission();
    if (refusal !== undefined) {
      ws.on("error", () => undefined);
      ws.close(refusal, refusal === CloseCode.SERVICE_RESTART ? "gateway restarting" : "gateway full; retry later");
      return;
    }
    const ipRefusal = sessionGate.admit(who);
    if (ipRefusal !== undefined) {
      ws.on("error", () => undefined);
      ws.close(CloseCode.TRY_AGAIN_LATER, ipRefusal);
      return;
    }
    const socket = new WsClientSocket(ws);
    const conn = gateway.open(socket);
    conn.identity = sessionGate.identityOf(who, conn.id);
    const peer: Peer = { conn, socket, alive: true };
    peers.set(ws, peer);
    // Without an 'error' listener an oversized or broken frame would crash the process.
    ws.on("error", (err) => conn.log.debug({ err: err.message }, "socket error"));
    ws.on("message", (data: RawData, isBinary: boolean) => conn.receive(toBytes(data), isBinary));
    ws.on("pong", () => (peer.alive = true));
    ws.on("close", (code: number) => {
      sessionGate.release(who);
      peers.delete(ws);
      socket.dispose();
      gateway.closed(conn, code);
    });
  });

  const heartbeat = setInterval(() => {
    for (const [ws, peer] of peers) {
      if (!peer.alive) {
        peer.conn.log.info("no pong since the last ping; terminating");
        ws.terminate();
        continue;
      }
      peer.alive = false;
      ws.ping();
    }
  }, gateway.tuning.socketPingIntervalMs);
  heartbeat.unref();

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => undefined);
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/ws") return rejectUpgrade(socket, 404, "Not Found");
    if (!originAllowed(allowedOrigins, req.headers.origin, req.headers.host)) return rejectUpgrade(socket, 403, "Forbidden");
    void sessionGate.identify(req).then((who) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req, who)));
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    return handleProbe(req, res, () => {
      if (gateway.isReady()) return undefined;
      return gateway.isDraining() ? "draining" : "the bus or the canvas service is unavailable";
    });
  }

  const server = createServer((req, res) => {
    if (sessionIssuer.handle(req, res)) return;
    if (!handleRequest(req, res)) res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  server.on("upgrade", handleUpgrade);
  // Timers are unref'd, so an embedded gateway that is never listened on does not hold the process.
  gateway.start();

  return {
    handleUpgrade,
    handleRequest,
    server,
    gateway,
    async shutdown(writeWaitMs = gateway.tuning.writeDeadlineMs) {
      clearInterval(heartbeat);
      await gateway.shutdown(writeWaitMs);
      // A client that never answers the close frame must not hold the exit (ws waits 30 s for it).
      const deadline = Date.now() + CLOSE_HANDSHAKE_WAIT_MS;
      while (peers.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const ws of peers.keys()) ws.terminate();
      if (server.listening) {
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        await closed;
      }
    },
  };
}

/** ws hands binary messages over as a Buffer (binaryType nodebuffer), fragmented ones as Buffer[]. */
function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
