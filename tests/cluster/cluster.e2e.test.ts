import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasReader } from "../chaos/harness/canvas-reader.js";
import { AckLedger } from "../chaos/harness/ack-ledger.js";
import { startClients, waitUntil } from "../chaos/harness/chaos-client.js";
import { startCluster, type Cluster } from "../../tools/cluster/cluster.js";
import { repoRoot } from "../../tools/process/repo-root.js";
import type { CrashReport } from "../../tools/process/managed-process.js";

function running(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startCluster", () => {
  let cluster: Cluster;
  const crashes: CrashReport[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ gateways: 2, canvases: 2 }, (r) => crashes.push(r));
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("routes /api to the canvas replicas, /ws to the gateways and / to web through haproxy", async () => {
    const stored = await new CanvasReader(cluster.url).read();
    expect(stored.width * stored.height * 3).toBe(stored.pixels.length);
    const clients = await startClients(2, [cluster.wsUrl], new AckLedger());
    try {
      expect(clients.every((c) => c.state === "live")).toBe(true);
      const conns = await cluster.gatewayConnections();
      expect(Object.values(conns).map((c) => c.current)).toEqual([1, 1]);
    } finally {
      clients.forEach((c) => c.close());
    }
    const web = await fetch(`${cluster.url}/healthz`);
    // The web process answers when the app is built; haproxy says 503 when web is not ready.
    expect([200, 503]).toContain(web.status);
    const stats = await cluster.balancerStats();
    expect(stats.filter((r) => r.backend === "gateways").every((r) => r.status.startsWith("UP"))).toBe(true);
    expect(stats.filter((r) => r.backend === "canvas_grpc").every((r) => r.status.startsWith("UP"))).toBe(true);
  });

  it("kill9 and restart a gateway without reporting a crash, and report a process that dies on its own", async () => {
    const gateway = cluster.gateways[1]!;
    const oldPid = gateway.pid;
    await gateway.kill9();
    expect(running(oldPid)).toBe(false);
    await gateway.restart();
    expect(gateway.alive).toBe(true);
    expect(gateway.pid).not.toBe(oldPid);
    expect(crashes).toEqual([]);
    const canvas = cluster.canvases[1]!;
    process.kill(canvas.pid as number, "SIGKILL");
    await waitUntil("the crash report", () => crashes.length === 1, 5_000);
    expect(crashes[0]).toMatchObject({ name: "canvas-1", signal: "SIGKILL" });
    await canvas.restart();
    await cluster.waitBalanced();
  });

  it("kill9 and restart Redis on the same port with its AOF", async () => {
    const redis = cluster.redis!;
    await redis.kill9();
    expect(redis.alive).toBe(false);
    await redis.restart();
    expect(redis.alive).toBe(true);
    await waitUntil("GetCanvas after the Redis restart", async () => (await new CanvasReader(cluster.url).read().then(() => true, () => false)), 15_000);
  });

  it("stop() ends every process and removes the temporary directory", async () => {
    const pids = [cluster.redis, ...cluster.canvases, ...cluster.gateways, cluster.web, cluster.haproxy].map((r) => r?.pid);
    await cluster.stop();
    expect(pids.filter((p) => running(p))).toEqual([]);
    expect(existsSync(cluster.dir)).toBe(false);
  }, 30_000);
});

describe("npm run cluster (the CLI)", () => {
  it("prints the URL and process table, and SIGINT stops everything", async () => {
    const child = spawn(process.execPath, [join(repoRoot(), "dist/tools/cluster/main.js"), "--gateways", "2", "--canvases", "1", "--port", "0", "--no-web"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      await waitUntil("the CLI to print its URL", () => /Open http:\/\/127\.0\.0\.1:\d+/.test(out), 45_000);
    } catch (err) {
      child.kill("SIGKILL");
      throw new Error(`${(err as Error).message}\n${out}`);
    }
    expect(out).toMatch(/gateway-1\s+\d+\s+ws \d+/);
    const pids = [...out.matchAll(/^(?:redis|canvas-\d|gateway-\d|haproxy)\s+(\d+)/gm)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(5);
    const url = /Open (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    expect((await new CanvasReader(url).read()).pixels.length).toBeGreaterThan(0);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(pids.filter((p) => running(p))).toEqual([]);
  }, 90_000);
});
