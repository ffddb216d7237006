import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../tools/process/free-port.js";
import { redisPing } from "../tools/process/redis-server.js";

export { freePort };

/** A redis-server started by the benchmark on its own port and directory. */
export interface BenchRedis {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Redis persistence for a run; the same settings are used for every target. */
export interface BenchRedisOptions {
  appendonly: boolean;
  appendfsync: "always" | "everysec" | "no";
}

/** Starts a private redis-server (never the shared one on 6379) and waits for PONG. */
export async function startBenchRedis(options: BenchRedisOptions): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "pixel-bench-redis-"));
  const child: ChildProcess = spawn("redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
    "--appendonly", options.appendonly ? "yes" : "no", "--appendfsync", options.appendfsync,
    "--daemonize", "no", "--logfile", join(dir, "redis.log"),
  ], { stdio: "ignore" });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("error", (err) => reject(new Error(`cannot start redis-server (apt-get install -y redis-server): ${err.message}`)));
    child.once("spawn", () => resolve());
  });
  await spawned;
  const deadline = Date.now() + 10_000;
  while (!(await redisPing(port))) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server on port ${port} did not answer PING`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((r) => {
          child.once("exit", () => r());
          child.kill("SIGTERM");
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
