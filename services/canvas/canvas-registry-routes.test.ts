import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { loadConfig, MAX_CANVAS_SIDE } from "../shared/config.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { loadSecurityConfig } from "../shared/security-config.js";
import { generateSessionKey, parseSessionKeys, SessionTokens } from "../shared/session-token.js";
import { connectFailure } from "../../tests/support/connect-failure.js";
import { capturedLogger } from "../shared/test-support/captured-logger.js";
import { CanvasCatalog } from "./canvas-catalog.js";
import { createCanvasServer, type CanvasServer } from "./canvas-server.js";
import { MemoryCanvasRegistry } from "./memory-canvas-registry.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { decodeTilePng } from "./tile-codec.js";

const ADMIN_SECRET = "ops-token-for-tests";
const admin = { headers: { authorization: `Bearer ${ADMIN_SECRET}` } };

/**
 * A canvas server in this process, wired as the entry points wire it (the store sized by the
 * registry), both listeners on port 0, its audit lines captured.
 */
async function start(env: Record<string, string> = {}) {
  const { logger, lines } = capturedLogger();
  const config = loadConfig({ CANVAS_WIDTH: "8", CANVAS_HEIGHT: "8", CANVAS_IDS: "default,wide:300x2" });
  const bus = new MemoryPixelBus();
  const registry = new MemoryCanvasRegistry();
  const catalog = new CanvasCatalog(registry, config);
  const store = new MemoryCanvasStore({ width: 8, height: 8, bus, logger, shapeOf: (id) => catalog.shapeOf(id) });
  const server = createCanvasServer({
    config,
    store,
    bus,
    catalog,
    logger,
    identity: {
      tokens: new SessionTokens(parseSessionKeys(generateSessionKey()), 3600),
      security: loadSecurityConfig({ ADMIN_TOKENS: `ops:${createHash("sha256").update(ADMIN_SECRET).digest("hex")}`, ...env }),
    },
  });
  const port = (s: CanvasServer["httpServer"] | CanvasServer["grpcServer"]) =>
    new Promise<number>((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
  const api = createClient(CanvasService, createConnectTransport({ baseUrl: `http://127.0.0.1:${await port(server.httpServer)}/api`, httpVersion: "1.1" }));
  const internal = createClient(CanvasService, createConnectTransport({ baseUrl: `http://127.0.0.1:${await port(server.grpcServer)}`, httpVersion: "2" }));
  running.push(async () => {
    await server.shutdown(1_000);
    await store.close();
    await registry.close();
  });
  const audits = () => lines.flatMap((l) => (l.audit === undefined ? [] : [l.audit]));
  return { api, internal, audits };
}

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

describe("CreateCanvas and ListCanvases", () => {
  it("refuses CreateCanvas on the public /api by default, even with an admin token, and audits the refusal with the canvas name", async () => {
    const { api, audits } = await start();
    const err = await connectFailure(api.createCanvas({ name: "art", width: 10, height: 10 }, admin));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(audits()).toEqual([{ admin: null, action: "CreateCanvas", canvasId: "art", surface: "public", result: "refused_public_api" }]);
  });

  it("on the internal port, creates with an admin token (audited), denies without one, and lists the new canvas on the public /api", async () => {
    const { api, internal, audits } = await start();
    expect((await connectFailure(internal.createCanvas({ name: "art", width: 10, height: 20 }))).code).toBe(Code.PermissionDenied);
    const res = await internal.createCanvas({ name: "art", width: 10, height: 20 }, admin);
    expect([res.created, res.canvas?.name, res.canvas?.width, res.canvas?.height, res.canvas?.backgroundColor, res.canvas?.seq]).toEqual([true, "art", 10, 20, 0xffffff, 0n]);
    expect(audits()).toEqual([
      { admin: null, action: "CreateCanvas", canvasId: "art", surface: "internal", result: "denied" },
      { admin: "ops", action: "CreateCanvas", canvasId: "art", surface: "internal", result: "ok" },
    ]);
    const listed = (await api.listCanvases({})).canvases.map((c) => [c.name, c.width, c.height]);
    expect(listed).toEqual([
      ["art", 10, 20],
      ["default", 8, 8],
      ["wide", 300, 2],
    ]);
  });

  it("is idempotent for the same spec and AlreadyExists for another, seeds included", async () => {
    const { internal } = await start();
    const first = await internal.createCanvas({ name: "art", width: 10, height: 10 }, admin);
    const again = await internal.createCanvas({ name: "art", width: 10, height: 10, backgroundColor: 0xffffff }, admin);
    expect([again.created, again.canvas?.createdUnixMs]).toEqual([false, first.canvas?.createdUnixMs]);
    expect((await connectFailure(internal.createCanvas({ name: "art", width: 11, height: 10 }, admin))).code).toBe(Code.AlreadyExists);
    expect((await internal.createCanvas({ name: "wide", width: 300, height: 2 }, admin)).created).toBe(false);
    expect((await connectFailure(internal.createCanvas({ name: "default", width: 9, height: 8 }, admin))).code).toBe(Code.AlreadyExists);
  });

  it("refuses a bad name, a side outside 1..MAX_CANVAS_SIDE or a colour above 0xFFFFFF with InvalidArgument", async () => {
    const { internal } = await start();
    const bad = [
      { name: "Art", width: 10, height: 10 },
      { name: "", width: 10, height: 10 },
      { name: "art", width: 0, height: 10 },
      { name: "art", width: 10, height: MAX_CANVAS_SIDE + 1 },
      { name: "art", width: 10, height: 10, backgroundColor: 0x1000000 },
    ];
    const codes = await Promise.all(bad.map(async (req) => (await connectFailure(internal.createCanvas(req, admin))).code));
    expect(codes).toEqual(bad.map(() => Code.InvalidArgument));
    expect((await internal.listCanvases({})).canvases.map((c) => c.name)).toEqual(["default", "wide"]);
  });

  it("answers NotFound for every call on an unregistered canvas, and serves it at its own size once created", async () => {
    const { api, internal } = await start();
    const calls = [
      internal.getCanvas({ canvasId: "later" }),
      internal.getTile({ canvasId: "later" }),
      internal.setPixels({ canvasId: "later", pixels: [{ x: 0, y: 0, color: 0 }] }),
      (async () => {
        for await (const _ of internal.watchCanvas({ canvasId: "later" })) return;
      })(),
    ];
    const codes = await Promise.all(calls.map(async (call) => (await connectFailure(call)).code));
    expect(codes).toEqual([Code.NotFound, Code.NotFound, Code.NotFound, Code.NotFound]);
    await internal.createCanvas({ name: "later", width: 300, height: 3 }, admin);
    const { seq } = await internal.setPixels({ canvasId: "later", pixels: [{ x: 299, y: 2, color: 0x00ff00 }] });
    const snap = await api.getCanvas({ canvasId: "later" });
    expect([snap.width, snap.height, [...snap.pixels.subarray(-3)]]).toEqual([300, 3, [0, 255, 0]]);
    const tile = await api.getTile({ canvasId: "later", tx: 1 });
    expect([tile.width, tile.height, tile.version, tile.canvasWidth]).toEqual([44, 3, seq, 300]);
    expect((await connectFailure(internal.setPixels({ canvasId: "later", pixels: [{ x: 300, y: 0, color: 0 }] }))).code).toBe(Code.InvalidArgument);
    const listed = (await api.listCanvases({})).canvases.find((c) => c.name === "later");
    expect(listed?.seq).toBe(seq);
    expect([...decodeTilePng(tile.data).pixels.subarray(-3)]).toEqual([0, 255, 0]);
  });

  it("creates an 8192x8192 canvas, paints its far corner and reads it back by tile, refusing a whole snapshot", async () => {
    const { internal } = await start();
    await internal.createCanvas({ name: "huge", width: MAX_CANVAS_SIDE, height: MAX_CANVAS_SIDE }, admin);
    const corner = MAX_CANVAS_SIDE - 1;
    const { seq } = await internal.setPixels({ canvasId: "huge", pixels: [{ x: corner, y: corner, color: 0x123456 }] });
    const tile = await internal.getTile({ canvasId: "huge", level: 0, tx: 31, ty: 31 });
    expect([tile.version, tile.levelCount, tile.canvasWidth, tile.canvasHeight]).toEqual([seq, 6, MAX_CANVAS_SIDE, MAX_CANVAS_SIDE]);
    expect([...decodeTilePng(tile.data).pixels.subarray(-3)]).toEqual([0x12, 0x34, 0x56]);
    const top = await internal.getTile({ canvasId: "huge", level: 5 });
    expect([top.width, top.version]).toEqual([256, seq]);
    expect((await connectFailure(internal.getCanvas({ canvasId: "huge" }))).code).toBe(Code.FailedPrecondition);
  });

  it("fills every never-painted pixel of a canvas created with a background with it: snapshot, tiles and overviews", async () => {
    const { internal } = await start();
    const created = await internal.createCanvas({ name: "dark", width: 300, height: 300, backgroundColor: 0x102030 }, admin);
    expect(created.canvas?.backgroundColor).toBe(0x102030);
    await internal.setPixels({ canvasId: "dark", pixels: [{ x: 0, y: 0, color: 0xffffff }] });
    const dark = [0x10, 0x20, 0x30];
    const snap = await internal.getCanvas({ canvasId: "dark" });
    expect([...snap.pixels.subarray(0, 6), ...snap.pixels.subarray(-3)]).toEqual([255, 255, 255, ...dark, ...dark]);
    const painted = decodeTilePng((await internal.getTile({ canvasId: "dark" })).data).pixels;
    expect([...painted.subarray(3, 6)]).toEqual(dark);
    const untouched = decodeTilePng((await internal.getTile({ canvasId: "dark", tx: 1, ty: 1 })).data).pixels;
    expect([...untouched.subarray(0, 3)]).toEqual(dark);
    const overview = decodeTilePng((await internal.getTile({ canvasId: "dark", level: 1 })).data).pixels;
    expect([...overview.subarray(-3)]).toEqual(dark);
  });
});
