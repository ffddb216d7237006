import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./free-port.js";

/** A private redis-server started by a test, on its own port and data directory. */
export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** SIGKILL, as a crash would. */
  kill9(): Promise<void>;
  /** Starts it again on the same port and directory (replaying its AOF). */
  restart(): Promise<void>;
  /** Stops it and deletes its directory. */
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /** AOF on (default true) with this fsync policy (default "always"). */
  appendonly?: boolean;
  appendfsync?: "always" | "everysec" | "no";
}

/** Answers true when a PING on the port gets PONG. */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts `redis-server` on a free port with a fresh temporary directory. It never
 * touches the machine's shared Redis on 6379.
 */
export async function startRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "pixel-redis-"));
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
    "--appendonly", options.appendonly === false ? "no" : "yes",
    "--appendfsync", options.appendfsync ?? "always",
    "--daemonize", "no", "--logfile", join(dir, "redis.log"),
  ];
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" });
    child.once("error", (err) => {
      throw new Error(`cannot start redis-server (apt-get install -y redis-server): ${err.message}`);
    });
    await waitFor(`redis-server on port ${port}`, () => redisPing(port));
  };
  const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async kill9() {
      if (!child) return;
      const c = child;
      c.kill("SIGKILL");
      await exited(c);
    },
    async restart() {
      await launch();
    },
    async stop() {
      if (child && child.exitCode === null) {
        const c = child;
        c.kill("SIGTERM");
        await exited(c);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
