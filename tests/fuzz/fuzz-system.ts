import { existsSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { freePort } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { REPO_ROOT, startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { fetchSession, testSessionKeys } from "../../tools/process/session.js";
import type { WsEndpoint } from "./fuzz-socket.js";

/** The canvas the /ws fuzzing paints, one the /api and h2c fuzzing never names. */
export const WS_CANVAS = "ws";
/** The canvas an empty canvas_id names, which /api and h2c inputs of the wrong shape reach. */
export const DEFAULT_CANVAS = "default";
/** The canvas the /api and h2c inputs are built around. */
export const API_CANVAS = "api";

/** Redis, one canvas service and one gateway as real processes, on 127.0.0.1 only. */
export interface FuzzSystem {
  gatewayPort: number;
  /** The gateway's /ws with a session got from its POST /session, as a browser gets one. */
  ws: WsEndpoint;
  canvasHttpUrl: string;
  canvasGrpcUrl: string;
  pids: { gateway: number; canvas: number };
  canvas: ReturnType<typeof createClient<typeof CanvasService>>;
  /** Problems found: a process that exited, a health check that failed; empty when all is well. */
  health(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server (no fsync: the fuzz checks what is stored, not durability), the canvas service
 * and a gateway from dist/, with a canvas of `side` × `side`, rate limits and placement budgets high
 * enough that a valid Place is never refused for its rate, and a connection cap above the fuzz's
 * sockets. Sessions are required, as in production: the system gets one from the gateway.
 */
export async function startFuzzSystem(side: number, name: string): Promise<FuzzSystem> {
  for (const entry of ["services/canvas/main.js", "services/gateway/main.js"]) {
    if (!existsSync(join(REPO_ROOT, "dist", entry))) throw new Error(`dist/${entry} is missing: run \`npx tsc -p tsconfig.build.json\` first (npm test does)`);
  }
  const redis: TestRedis = await startRedis({ appendonly: false });
  const started: ServiceProcess[] = [];
  const sessionKeys = testSessionKeys();
  const budget = { PIXELS_PER_SECOND: "1000000", PIXEL_BURST: "10000000" };
  try {
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const canvasHttpUrl = `http://127.0.0.1:${httpPort}`;
    const canvasGrpcUrl = `http://127.0.0.1:${grpcPort}`;
    const canvasProc = await startService(`${name}-canvas`, "services/canvas/main.js", {
      HOST: "127.0.0.1", REDIS_URL: redis.url, CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort),
      CANVAS_WIDTH: String(side), CANVAS_HEIGHT: String(side), CANVAS_IDS: `${DEFAULT_CANVAS},${WS_CANVAS},${API_CANVAS}`, INSTANCE_ID: `${name}-canvas`, LOG_LEVEL: "warn",
      SESSION_KEYS: sessionKeys, ...budget,
    }, `${canvasHttpUrl}/readyz`);
    started.push(canvasProc);
    const gatewayPort = await freePort();
    const gatewayProc = await startService(`${name}-gateway`, "services/gateway/main.js", {
      HOST: "127.0.0.1", REDIS_URL: redis.url, GATEWAY_PORT: String(gatewayPort), CANVAS_URL: canvasGrpcUrl,
      INSTANCE_ID: `${name}-gateway`, LOG_LEVEL: "warn", SESSION_KEYS: sessionKeys, MAX_CONNECTIONS_PER_IP: "100000", ...budget,
    }, `http://127.0.0.1:${gatewayPort}/readyz`);
    started.push(gatewayProc);
    const { cookie } = await fetchSession(`http://127.0.0.1:${gatewayPort}`);
    const grpc = createGrpcTransport({ baseUrl: canvasGrpcUrl });
    const health = createClient(Health, grpc);
    const ok = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status === 200;
    return {
      gatewayPort,
      ws: { port: gatewayPort, cookie },
      canvasHttpUrl,
      canvasGrpcUrl,
      pids: { gateway: gatewayProc.child.pid as number, canvas: canvasProc.child.pid as number },
      canvas: createClient(CanvasService, grpc),
      async health() {
        const problems: string[] = [];
        for (const proc of started) {
          if (proc.child.exitCode !== null || proc.child.signalCode !== null) problems.push(`${proc.name} exited (code ${proc.child.exitCode}, signal ${proc.child.signalCode}); see ${proc.logFile}`);
        }
        const probes: [string, () => Promise<boolean>][] = [
          [`gateway GET /healthz`, () => ok(`http://127.0.0.1:${gatewayPort}/healthz`)],
          [`canvas GET /healthz`, () => ok(`${canvasHttpUrl}/healthz`)],
          [`canvas gRPC health check on h2c`, async () => (await health.check({ service: "" }, { timeoutMs: 5_000 })).status === HealthCheckResponse_ServingStatus.SERVING],
        ];
        for (const [what, probe] of probes) {
          const answer = await probe().catch((err: Error) => err.message);
          if (answer !== true) problems.push(`${what} failed${typeof answer === "string" ? `: ${answer}` : ""}`);
        }
        return problems;
      },
      async stop() {
        for (const proc of started.reverse()) await proc.stop();
        await redis.stop();
      },
    };
  } catch (err) {
    for (const proc of started) await proc.kill9();
    await redis.stop();
    throw err;
  }
}
