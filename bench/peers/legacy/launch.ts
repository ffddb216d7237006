import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LegacyReady } from "./process-main.js";

/** One server process of a benchmark target, for CPU and RSS sampling. */
export interface ServerProcessInfo {
  role: string;
  pid: number;
}

/** A running legacy system. */
export interface LegacySystem {
  /** ws://…/ws of every gateway. */
  gatewayUrls: string[];
  restUrl: string;
  processes: ServerProcessInfo[];
  /** SIGTERM to every process, then waits for them to exit. */
  stop(): Promise<void>;
}

/** How to start the legacy system. */
export interface LegacyOptions {
  /** A Redis the caller started and owns. */
  redisUrl: string;
  gateways: number;
  width?: number;
  height?: number;
  logLevel?: string;
  /** Extra environment for every legacy process (for example NODE_OPTIONS=--cpu-prof). */
  env?: Record<string, string>;
}

const ENTRY = fileURLToPath(new URL("./process-main.js", import.meta.url));
const START_TIMEOUT_MS = 15_000;

function startOne(role: "rest" | "gateway", env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(ENTRY, [role], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`legacy ${role} did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.once("message", (msg: LegacyReady) => {
      clearTimeout(timer);
      resolve({ child, port: msg.port });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`legacy ${role} exited with ${code} during start`));
    });
  });
}

/**
 * Starts the design being replaced as real processes: one REST canvas API and
 * `gateways` WebSocket gateways, all on the given Redis.
 */
export async function startLegacy(options: LegacyOptions): Promise<LegacySystem> {
  const base = {
    REDIS_URL: options.redisUrl,
    CANVAS_WIDTH: String(options.width ?? 50),
    CANVAS_HEIGHT: String(options.height ?? 50),
    LOG_LEVEL: options.logLevel ?? "warn",
    ...options.env,
  };
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) return r();
      c.once("exit", () => r());
      c.kill("SIGTERM");
    })));
  };
  try {
    const rest = await startOne("rest", base);
    children.push(rest.child);
    const restUrl = `http://127.0.0.1:${rest.port}`;
    const processes: ServerProcessInfo[] = [{ role: "legacy-rest", pid: rest.child.pid! }];
    const gatewayUrls: string[] = [];
    for (let i = 0; i < options.gateways; i++) {
      const gw = await startOne("gateway", { ...base, REST_URL: restUrl, INSTANCE_ID: `legacy-gw-${i}` });
      children.push(gw.child);
      processes.push({ role: `legacy-gateway-${i}`, pid: gw.child.pid! });
      gatewayUrls.push(`ws://127.0.0.1:${gw.port}/ws`);
    }
    return { gatewayUrls, restUrl, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
