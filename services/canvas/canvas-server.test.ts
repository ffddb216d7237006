import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { loadConfig } from "../shared/config.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { createCanvasServer, type CanvasServer } from "./canvas-server.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { generateSessionKey, parseSessionKeys, SessionTokens } from "../shared/session-token.js";

const logger = pino({ level: "silent" });

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

describe("createCanvasServer (in process, port 0)", () => {
  let canvas: CanvasServer;
  let host: Server | undefined;
  let store: MemoryCanvasStore;
  const tokens = new SessionTokens(parseSessionKeys(generateSessionKey()), 3600);
  const security = { sessions: "required", adminCredentials: [], adminOverPublicApi: false } as const;

  const build = () => {
    const bus = new MemoryPixelBus();
    store = new MemoryCanvasStore({ width: 10, height: 10, bus, logger });
    canvas = createCanvasServer({ config: loadConfig({ CANVAS_WIDTH: "10", CANVAS_HEIGHT: "10" }), store, bus, logger, identity: { tokens, security } });
  };
  afterEach(async () => {
    await canvas.shutdown(1_000);
    await new Promise((r) => (host ? host.close(r) : r(undefined)));
    host = undefined;
    await store.close();
  });

  it("exposes apiHandler so another process can mount the HTTP/1.1 API under /api", async () => {
    build();
    host = createServer((req, res) => {
      if (req.url?.startsWith("/api/")) canvas.apiHandler(req, res);
      else res.writeHead(418).end();
    });
    const url = await listen(host);
    const { token } = await tokens.issue();
    const res = await fetch(`${url}/api/pixel.v1.CanvasService/SetPixels`, { method: "POST", headers: { "content-type": "application/json", cookie: `pp_session=${token}` }, body: JSON.stringify({ pixels: [{ x: 1, y: 1, color: 7 }] }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ seq: "1" });
    expect((await fetch(`${url}/api/nope`, { method: "POST" })).status).toBe(404);
  });

  it("reports not ready, ends open watch streams and closes promptly on shutdown", async () => {
    build();
    const url = await listen(canvas.httpServer);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const client = createClient(CanvasService, createConnectTransport({ baseUrl: `${url}/api`, httpVersion: "1.1" }));
    let ended: string | undefined;
    const watching = (async () => {
      for await (const _ of client.watchCanvas({})) {
        // no writes happen
      }
      ended = "cleanly";
    })().catch((err: unknown) => {
      ended = Code[ConnectError.from(err).code];
    });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const shutdown = canvas.shutdown(5_000);
    expect(canvas.isReady()).toBe(false);
    await shutdown;
    await watching;
    expect(ended).toBe("cleanly");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
