/**
 * Entry of one legacy process, started by launch.ts: `node process-main.js rest|gateway`.
 * Env: REDIS_URL, REST_URL (gateway), CANVAS_WIDTH, CANVAS_HEIGHT, INSTANCE_ID.
 * It listens on an ephemeral port and reports it to its parent over IPC.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { createLogger } from "../../../services/shared/logger.js";
import { createLegacyGateway } from "./gateway.js";
import { createLegacyRestApi } from "./rest-api.js";

/** Message sent to the parent once the process listens. */
export interface LegacyReady {
  ready: true;
  port: number;
}

const role = process.argv[2];
const redisUrl = process.env.REDIS_URL;
const width = Number(process.env.CANVAS_WIDTH ?? 50);
const height = Number(process.env.CANVAS_HEIGHT ?? 50);
const log = createLogger(`legacy-${role ?? "unknown"}`);
if (!redisUrl) throw new Error("REDIS_URL is required");

const closers: Array<() => Promise<void> | void> = [];
let server: Server;
if (role === "rest") {
  const redis = new Redis(redisUrl);
  server = createLegacyRestApi(redis, width, height);
  // Node's default keep-alive timeout (5 s) is shorter than the agent's; keep sockets for the run.
  server.keepAliveTimeout = 60_000;
  closers.push(() => void redis.disconnect());
} else if (role === "gateway") {
  const restUrl = process.env.REST_URL;
  if (!restUrl) throw new Error("REST_URL is required");
  const publisher = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  const gateway = createLegacyGateway({ publisher, subscriber, restUrl, width, height, instanceId: process.env.INSTANCE_ID ?? `gw-${process.pid}`, log });
  server = gateway.server;
  closers.push(() => gateway.close(), () => void publisher.disconnect(), () => void subscriber.disconnect());
} else {
  throw new Error(`role must be rest or gateway, not ${String(role)}`);
}

server.listen(0, "127.0.0.1", () => {
  const ready: LegacyReady = { ready: true, port: (server.address() as AddressInfo).port };
  process.send?.(ready);
  log.info({ port: ready.port }, "legacy process listening");
});

process.on("SIGTERM", () => {
  void Promise.all(closers.map((c) => c())).finally(() => process.exit(0));
});
