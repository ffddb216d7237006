import { fork, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { repoRoot } from "../../tools/process/repo-root.js";
import { testSessionKeys } from "../../tools/process/session.js";
import { freePort } from "../redis-process.js";

/** A canvas server under RPC load: ours (connect-node) or the grpc-js peer. */
export interface RpcServer {
  name: string;
  pid: number;
  /** http://127.0.0.1:port of the HTTP/2 listener. */
  baseUrl: string;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () => new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once("exit", () => r());
    child.kill("SIGTERM");
  });
}

async function waitOk(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before ${url} was ready`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The RPC benchmark's callers name no authors, so every SetPixels is charged to the one anonymous
 * key of 127.0.0.1: a budget far above any measured rate keeps the budget check in the measured
 * path without ever refusing.
 */
const RPC_BENCH_BUDGETS = { CANVAS_BUDGETS: "*:rate=10000000,burst=10000000" };

/** Starts our canvas service (dist/services/canvas/main.js) on free ports against `redisUrl`. */
export async function startOurCanvas(redisUrl: string, width: number, height: number): Promise<RpcServer> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [join(repoRoot(), "dist/services/canvas/main.js")], {
    env: { ...process.env, REDIS_URL: redisUrl, CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), CANVAS_WIDTH: String(width), CANVAS_HEIGHT: String(height), LOG_LEVEL: "warn", INSTANCE_ID: "canvas-rpc-bench", SESSION_KEYS: testSessionKeys(), ...RPC_BENCH_BUDGETS },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const stop = stopper(child);
  try {
    await waitOk(`http://127.0.0.1:${httpPort}/readyz`, child, 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: "ours (connect-node)", pid: child.pid!, baseUrl: `http://127.0.0.1:${grpcPort}`, stop };
}

/** Starts the grpc-js reference peer as its own process against `redisUrl`. */
export async function startGrpcJsPeer(redisUrl: string, width: number, height: number): Promise<RpcServer> {
  const entry = fileURLToPath(new URL("./grpcjs-peer-main.js", import.meta.url));
  const child = fork(entry, [], { env: { ...process.env, REDIS_URL: redisUrl, CANVAS_WIDTH: String(width), CANVAS_HEIGHT: String(height), LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("grpc-js peer did not start in 15 s")), 15_000);
    child.once("message", (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once("exit", (code) => reject(new Error(`grpc-js peer exited with ${code}`)));
  });
  return { name: "reference (@grpc/grpc-js)", pid: child.pid!, baseUrl: `http://127.0.0.1:${port}`, stop: stopper(child) };
}
