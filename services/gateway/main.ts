import { ConfigError, envInt, loadConfig } from "../shared/config.js";
import { createLogger } from "../shared/logger.js";
import { MemoryPixelBus, RedisPixelBus, type PixelBus } from "../shared/pixel-bus.js";
import { GATEWAY_DRAIN_MS } from "../shared/timing.js";
import { drainOnSignal } from "../shared/shutdown-signal.js";
import { createCanvasClient, createCanvasTransport, type CanvasWrites } from "./upstream/canvas-client.js";
import { createGatewayServer } from "./transport/gateway-server.js";
import { MemoryPresenceStore, RedisPresenceStore, type PresenceStore } from "./presence/presence.js";
import { DEFAULT_TUNING } from "./gateway-tuning.js";
import { loadSecurityConfig } from "../shared/security-config.js";
import { loadSessionKeys } from "../shared/session-keys.js";

/**
 * The standalone gateway process: /ws, /healthz, /readyz and /metrics on GATEWAY_PORT.
 * ALLOWED_ORIGINS (read by loadConfig) lists origins allowed to open /ws besides the page's own.
 * Gateway-only variables: WRITE_MAX_IN_FLIGHT (SetPixels calls in flight per canvas, default 1),
 * CANVAS_PROTOCOL (connect, the default, or grpc) for the canvas-service transport, CANVAS_WRITES
 * (stream, the default: one WritePixels stream; or unary: a SetPixels call per batch),
 * FANOUT_TICK_MAX_MS and FANOUT_US_PER_MEMBER (the fan-out tick), FRAME_BUDGET_MS and FRAME_BUDGET_LOAD
 * (the frame budget under load, percent of event-loop busy time), COALESCE_ACKS and PIXEL_COLUMNS (1 or 0); see
 * gateway-tuning.ts.
 */
async function main(): Promise<void> {
  const log = createLogger("gateway");
  let config;
  let writeMaxInFlight;
  let fanoutTickMaxMs;
  let fanoutMicrosPerMember;
  let frameBudgetMs;
  let frameBudgetLoad;
  let coalesceAcks;
  let pixelColumns;
  let protocol: "connect" | "grpc";
  let writes: CanvasWrites;
  let identity;
  try {
    config = loadConfig();
    const security = loadSecurityConfig();
    identity = { tokens: loadSessionKeys(config, security, "service"), security };
    writeMaxInFlight = envInt(process.env, "WRITE_MAX_IN_FLIGHT", DEFAULT_TUNING.writeMaxInFlight, 1, 16);
    fanoutTickMaxMs = envInt(process.env, "FANOUT_TICK_MAX_MS", DEFAULT_TUNING.fanoutTickMaxMs, 0, 1_000);
    fanoutMicrosPerMember = envInt(process.env, "FANOUT_US_PER_MEMBER", DEFAULT_TUNING.fanoutMicrosPerMember, 0, 10_000);
    frameBudgetMs = envInt(process.env, "FRAME_BUDGET_MS", DEFAULT_TUNING.frameBudgetMs, 0, 1_000);
    frameBudgetLoad = envInt(process.env, "FRAME_BUDGET_LOAD", Math.round(DEFAULT_TUNING.frameBudgetLoad * 100), 0, 100) / 100;
    coalesceAcks = envInt(process.env, "COALESCE_ACKS", DEFAULT_TUNING.coalesceAcks ? 1 : 0, 0, 1) === 1;
    pixelColumns = envInt(process.env, "PIXEL_COLUMNS", DEFAULT_TUNING.pixelColumns ? 1 : 0, 0, 1) === 1;
    const p = process.env.CANVAS_PROTOCOL || "connect";
    if (p !== "connect" && p !== "grpc") throw new ConfigError(`CANVAS_PROTOCOL=${p} must be connect or grpc`);
    protocol = p;
    const w = process.env.CANVAS_WRITES || "stream";
    if (w !== "stream" && w !== "unary") throw new ConfigError(`CANVAS_WRITES=${w} must be stream or unary`);
    writes = w;
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal(err.message);
      process.exit(2);
    }
    throw err;
  }
  let bus: PixelBus;
  let presence: PresenceStore;
  if (config.redis) {
    bus = new RedisPixelBus(config.redis, log);
    presence = new RedisPresenceStore(config.redis, config.instanceId, DEFAULT_TUNING.presenceTtlMs, log);
  } else {
    // Without Redis a standalone gateway only sees batches published in this process (none): useful for smoke tests only.
    log.warn("neither REDIS_URL nor REDIS_CLUSTER_NODES is set: the gateway will not receive batches from a separate canvas service");
    bus = new MemoryPixelBus();
    presence = new MemoryPresenceStore(config.instanceId, DEFAULT_TUNING.presenceTtlMs);
  }
  const gw = createGatewayServer({
    config,
    log,
    bus,
    presence,
    identity,
    canvas: createCanvasClient(createCanvasTransport(config.canvasUrl, protocol), writes),
    tuning: { writeMaxInFlight, fanoutTickMaxMs, fanoutMicrosPerMember, frameBudgetMs, frameBudgetLoad, coalesceAcks, pixelColumns },
  });
  gw.server.listen(config.gatewayPort, config.host, () => {
    log.info({ host: config.host, port: config.gatewayPort, canvasUrl: config.canvasUrl, instanceId: config.instanceId }, "gateway listening");
  });

  drainOnSignal(
    log,
    () => gw.shutdown(GATEWAY_DRAIN_MS).then(() => Promise.all([presence.close(), bus.close()])),
    0,
  );
}

void main();
