import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "./free-port.js";
import { repoRoot } from "./repo-root.js";

/** The repository root. */
export const REPO_ROOT = repoRoot();

/** A service started by a test as a real, separate Node process from the built dist/. */
export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Path of the file holding its stdout and stderr. */
  logFile: string;
  /** SIGTERM, then waits for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill9(): Promise<void>;
}

/** Variables a test must set itself: a developer's own REDIS_URL must never reach a test's process. */
const PROJECT_VARIABLES = /^(REDIS_URL|REDIS_CLUSTER_NODES|REDIS_PASSWORD|REDIS_WAIT_REPLICAS|REDIS_WAIT_TIMEOUT_MS|CANVAS_.*|DATA_DIR|WEB_PORT|GATEWAY_PORT|HOST|ADMIN_TOKENS?|ADMIN_OVER_PUBLIC_API|SESSIONS|SESSION_KEYS|SESSION_MAX_AGE_DAYS|SESSIONS_PER_IP_PER_MINUTE|MAX_CONNECTIONS_PER_IP|TRUST_PROXY|COOKIE_SECURE|PIXELS_PER_SECOND|PIXEL_BURST|MAX_CONNECTIONS|INSTANCE_ID|ALLOWED_ORIGINS|WRITE_MAX_IN_FLIGHT|WEB_DIST_DIR|IP_BUDGET_FACTOR|FORWARDED_FOR_HOPS|FANOUT_TICK_MAX_MS|FANOUT_US_PER_MEMBER|FRAME_BUDGET_MS|FRAME_BUDGET_LOAD|COALESCE_ACKS|PIXEL_COLUMNS|HISTORY_DATABASE_URL|ARCHIVER_HTTP_PORT)$/;

/** The test runner's environment without the project's own variables. */
function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !PROJECT_VARIABLES.test(e[0])));
}

/**
 * Spawns `node dist/<entry>` with `env` and waits until `readyUrl` answers 200.
 * Logs go to test-results/logs/<name>.log.
 */
export async function startService(name: string, entry: string, env: Record<string, string>, readyUrl: string, timeoutMs = 20_000): Promise<ServiceProcess> {
  const logDir = join(REPO_ROOT, "test-results", "logs");
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, [join(REPO_ROOT, "dist", entry)], {
    cwd: REPO_ROOT,
    env: { ...inheritedEnv(), LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let dead = false;
  void exited.then(() => (dead = true));
  await waitFor(`${name} ready at ${readyUrl}`, async () => {
    if (dead) throw new Error(`${name} exited during start; see ${logFile}`);
    const res = await fetch(readyUrl);
    return res.status === 200;
  }, timeoutMs).catch((err: Error) => {
    child.kill("SIGKILL");
    throw new Error(`${err.message} (log: ${logFile})`);
  });
  return {
    name,
    child,
    logFile,
    async stop() {
      if (!dead) child.kill("SIGTERM");
      return exited;
    },
    async kill9() {
      if (!dead) child.kill("SIGKILL");
      await exited;
    },
  };
}
