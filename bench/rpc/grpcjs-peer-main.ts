/**
 * Entry of the grpc-js reference peer process (started by the RPC benchmark).
 * Env: REDIS_URL, CANVAS_WIDTH, CANVAS_HEIGHT. Binds an ephemeral port and reports it over IPC.
 */
import { ServerCredentials } from "@grpc/grpc-js";
import { RedisCanvasStore } from "../../services/canvas/redis-canvas-store.js";
import { createLogger } from "../../services/shared/logger.js";
import { createGrpcJsPeer } from "./grpcjs-peer.js";

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) throw new Error("REDIS_URL is required");
const width = Number(process.env.CANVAS_WIDTH ?? 50);
const height = Number(process.env.CANVAS_HEIGHT ?? 50);
const logger = createLogger("grpcjs-peer", process.env.LOG_LEVEL ?? "warn");
const store = new RedisCanvasStore({ redis: redisUrl, width, height, logger });
const server = createGrpcJsPeer({ store, width, height });
server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  // The store refuses calls until its Redis connection is ready; report only then.
  const waitReady = () => (store.isReady() ? process.send?.({ ready: true, port }) : setTimeout(waitReady, 20));
  waitReady();
});
process.on("SIGTERM", () => {
  server.tryShutdown(() => void store.close().finally(() => process.exit(0)));
});
