import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../process/free-port.js";
import { renderHaproxyConfig, type HaproxyLayout } from "./haproxy-config.js";
import { fetchHaproxyStats } from "./haproxy-stats.js";

const dir = mkdtempSync(join(tmpdir(), "haproxy-config-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function layout(): Promise<HaproxyLayout> {
  return {
    frontPort: await freePort(),
    canvasGrpcPort: await freePort(),
    statsPort: await freePort(),
    web: [{ name: "web", port: await freePort() }],
    canvasHttp: [{ name: "canvas-0", port: await freePort() }],
    canvasGrpc: [{ name: "canvas-0", port: await freePort(), checkPort: 1 }],
    gateways: [{ name: "gateway-0", port: await freePort() }, { name: "gateway-1", port: await freePort() }],
    wsBalance: "leastconn",
    maxConnections: 1000,
  };
}

describe("renderHaproxyConfig with a real haproxy", () => {
  it("haproxy -c accepts the rendered config", async () => {
    const file = join(dir, "check.cfg");
    writeFileSync(file, renderHaproxyConfig(await layout()));
    const check = spawnSync("haproxy", ["-c", "-f", file], { encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it("serves stats that parse into one row per server, DOWN when nothing listens", async () => {
    const l = await layout();
    const file = join(dir, "run.cfg");
    writeFileSync(file, renderHaproxyConfig(l));
    const child = spawn("haproxy", ["-f", file, "-db"], { stdio: "ignore" });
    try {
      const statsUrl = `http://127.0.0.1:${l.statsPort}/stats`;
      await waitFor("haproxy stats", async () => (await fetch(statsUrl)).status === 200);
      await waitFor("checks to fail", async () => (await fetchHaproxyStats(statsUrl)).filter((r) => r.backend === "gateways").every((r) => r.status.startsWith("DOWN")));
      const rows = await fetchHaproxyStats(statsUrl);
      expect(rows.filter((r) => r.backend === "gateways").map((r) => r.server)).toEqual(["gateway-0", "gateway-1"]);
      expect(rows.find((r) => r.backend === "canvas_grpc")?.server).toBe("canvas-0");
      expect(rows.every((r) => r.current === 0)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
