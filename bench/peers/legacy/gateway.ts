import { Agent, request } from "node:http";
import { createServer, type Server } from "node:http";
import type { Redis } from "ioredis";
import { WebSocketServer, WebSocket } from "ws";
import type { Logger } from "../../../services/shared/logger.js";
import { LEGACY_CHANNEL, parseLegacyPlace, type LegacyPixel } from "./protocol.js";

/** Sockets the keep-alive agent keeps open to the REST API (its best setting: reuse, bounded). */
const REST_MAX_SOCKETS = 64;

/** What a legacy gateway needs. */
export interface LegacyGatewayOptions {
  /** Connection used to PUBLISH. */
  publisher: Redis;
  /** Dedicated subscriber connection. */
  subscriber: Redis;
  /** Base URL of the REST canvas API, e.g. http://127.0.0.1:4000. */
  restUrl: string;
  width: number;
  height: number;
  instanceId: string;
  log: Logger;
}

/** Counters a legacy gateway keeps, for the benchmark's own checks. */
export interface LegacyGatewayStats {
  placed: number;
  broadcast: number;
  restErrors: number;
}

/**
 * The gateway of the design being replaced, at its best settings: per pixel it
 * POSTs to the REST API on a keep-alive agent without waiting (fire-and-forget)
 * and PUBLISHes the JSON pixel to every gateway; each gateway sends the published
 * bytes (encoded once) to every open socket, one message per pixel.
 */
export function createLegacyGateway(options: LegacyGatewayOptions): { server: Server; stats: LegacyGatewayStats; close(): Promise<void> } {
  const { publisher, subscriber, log } = options;
  const stats: LegacyGatewayStats = { placed: 0, broadcast: 0, restErrors: 0 };
  const agent = new Agent({ keepAlive: true, maxSockets: REST_MAX_SOCKETS });
  const rest = new URL("/api/pixel", options.restUrl);
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  const wss = new WebSocketServer({ server, path: "/ws", maxPayload: 64 * 1024 });
  let nextConnection = 0;

  const store = (body: string): void => {
    const req = request(rest, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) stats.restErrors++;
      res.resume();
    });
    req.on("error", (err) => {
      stats.restErrors++;
      log.warn({ err: err.message }, "REST write failed");
    });
    req.end(body);
  };

  wss.on("connection", (ws) => {
    const user = `${options.instanceId}-${nextConnection++}`;
    ws.on("error", (err) => log.debug({ err: err.message, user }, "socket error"));
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const place = parseLegacyPlace(data.toString(), options.width, options.height);
      if (typeof place === "string") {
        ws.send(JSON.stringify({ type: "error", message: place }));
        return;
      }
      stats.placed++;
      const pixel: LegacyPixel = { type: "pixel", x: place.x, y: place.y, color: place.color, user };
      const json = JSON.stringify(pixel);
      store(json);
      publisher.publish(LEGACY_CHANNEL, json).catch((err: Error) => log.warn({ err: err.message }, "publish failed"));
    });
  });

  subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
    // One encoding per broadcast: the published bytes go to every socket as they are.
    for (const ws of wss.clients) {
      if (ws.readyState === WebSocket.OPEN) ws.send(message, { binary: false });
    }
    stats.broadcast++;
  });
  void subscriber.subscribe(LEGACY_CHANNEL);

  return {
    server,
    stats,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}
