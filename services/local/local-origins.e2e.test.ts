import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { freePort } from "../../tools/process/free-port.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";

// The one-process entry (`npm start`, built with `npx tsc -p tsconfig.build.json`) on the embedded store.

const procs: ServiceProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of procs) await p.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startLocal(env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "pixel-local-origins-"));
  dirs.push(dataDir);
  procs.push(
    await startService(
      `local-origins-${procs.length}`,
      "services/local/main.js",
      { WEB_PORT: String(port), CANVAS_GRPC_PORT: String(await freePort()), DATA_DIR: dataDir, HOST: "127.0.0.1", ...env },
      `http://127.0.0.1:${port}/readyz`,
    ),
  );
  return port;
}

/** The status an upgrade to /ws gets with this Origin header (none when undefined): 101, or the refusal's status. */
function upgradeStatus(port: number, origin: string | undefined): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, origin === undefined ? {} : { origin });
  ws.on("error", () => undefined);
  return new Promise((resolve) => {
    ws.once("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
  });
}

describe("origin checks of the local entry (npm start)", () => {
  it("allows only the page's own origin (and clients that send none) when ALLOWED_ORIGINS is unset", async () => {
    const port = await startLocal({});
    expect(await upgradeStatus(port, "https://evil.example")).toBe(403);
    expect(await upgradeStatus(port, "null")).toBe(403);
    expect(await upgradeStatus(port, `http://127.0.0.1:${port}.evil.example`)).toBe(403);
    expect(await upgradeStatus(port, `http://127.0.0.1:${port}`)).toBe(101);
    expect(await upgradeStatus(port, undefined)).toBe(101);
  });

  it("honours ALLOWED_ORIGINS: the listed origin is accepted, evil, null and look-alike origins get 403", async () => {
    const port = await startLocal({ ALLOWED_ORIGINS: "https://pixels.example" });
    expect(await upgradeStatus(port, "https://pixels.example")).toBe(101);
    expect(await upgradeStatus(port, "https://evil.example")).toBe(403);
    expect(await upgradeStatus(port, "null")).toBe(403);
    expect(await upgradeStatus(port, "https://pixels.example.evil.example")).toBe(403);
    expect(await upgradeStatus(port, `http://127.0.0.1:${port}.evil.example`)).toBe(403);
    expect(await upgradeStatus(port, `http://127.0.0.1:${port}`)).toBe(101);
  });
});
