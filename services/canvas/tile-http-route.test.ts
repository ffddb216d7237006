import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CanvasService, TileEncoding } from "../../gen/pixel/v1/canvas_pb.js";
import { loadConfig } from "../shared/config.js";
import { loadSecurityConfig } from "../shared/security-config.js";
import { parseSessionKeys, SessionTokens } from "../shared/session-token.js";
import { mintSession, testSessionKeys } from "../../tools/process/session.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { tileResponses } from "./canvas-metrics.js";
import { createCanvasServer, type CanvasServer } from "./canvas-server.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { decodeTilePng } from "./tile-codec.js";
import { etagMatches } from "./tile-http-route.js";

const logger = pino({ level: "silent" });
const W = TILE_SIZE + 44;
const H = TILE_SIZE + 4;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** Rows of a region of a row-major RGB canvas, concatenated. */
function region(pixels: Uint8Array, width: number, x: number, y: number, w: number, h: number): Buffer {
  return Buffer.concat(Array.from({ length: h }, (_, r) => Buffer.from(pixels.subarray(((y + r) * width + x) * 3, ((y + r) * width + x + w) * 3))));
}

describe("tiles over HTTP and GetTile", () => {
  let canvas: CanvasServer;
  let store: MemoryCanvasStore;
  let url: string;
  let client: Client<typeof CanvasService>;
  let host: Server | undefined;

  const start = async (width = W, height = H) => {
    const bus = new MemoryPixelBus();
    store = new MemoryCanvasStore({ width, height, bus, logger });
    // SetPixels on /api needs a session: the client carries one signed with the server's key.
    const keys = testSessionKeys();
    const identity = { tokens: new SessionTokens(parseSessionKeys(keys), 3600), security: loadSecurityConfig({}) };
    canvas = createCanvasServer({ config: loadConfig({ CANVAS_WIDTH: String(width), CANVAS_HEIGHT: String(height), CANVAS_IDS: "default,other" }), store, bus, logger, identity });
    url = await listen(canvas.httpServer);
    const { token } = await mintSession(keys);
    client = createClient(CanvasService, createConnectTransport({
      baseUrl: `${url}/api`,
      httpVersion: "1.1",
      interceptors: [(next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      }],
    }));
  };
  afterEach(async () => {
    await canvas.shutdown(1_000);
    await new Promise((r) => (host ? host.close(r) : r(undefined)));
    host = undefined;
    await store.close();
  });

  it("serves a level-0 tile as a PNG equal byte for byte to GetCanvas's region, stamped with ETag, Cache-Control, seq and version", async () => {
    await start();
    await client.setPixels({ pixels: [{ x: 3, y: 4, color: 0x112233 }] });
    const { seq } = await client.setPixels({ pixels: [{ x: W - 1, y: H - 1, color: 0x445566 }, { x: TILE_SIZE, y: TILE_SIZE, color: 0x778899 }] });
    const res = await fetch(`${url}/api/tiles/default/0/1/1.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("cache-control")).toBe("public, max-age=1");
    const snap = await client.getCanvas({});
    expect(res.headers.get("etag")).toBe(`"${snap.epoch}-${seq}"`);
    expect([res.headers.get("x-canvas-seq"), res.headers.get("x-tile-version"), res.headers.get("x-canvas-epoch")]).toEqual([String(seq), String(seq), String(snap.epoch)]);
    const tile = decodeTilePng(new Uint8Array(await res.arrayBuffer()));
    expect([tile.width, tile.height]).toEqual([44, 4]);
    expect(Buffer.from(tile.pixels).equals(region(snap.pixels, W, TILE_SIZE, TILE_SIZE, 44, 4))).toBe(true);
    const first = decodeTilePng(new Uint8Array(await (await fetch(`${url}/api/tiles/default/0/0/0.png`)).arrayBuffer()));
    expect(Buffer.from(first.pixels).equals(region(snap.pixels, W, 0, 0, TILE_SIZE, TILE_SIZE))).toBe(true);
  });

  it("answers 304 to the current ETag (counted by level and status), and a new ETag once a batch paints the tile but not when it paints another", async () => {
    await start();
    await client.setPixels({ pixels: [{ x: 1, y: 1, color: 1 }] });
    const path = `${url}/api/tiles/default/0/0/0.png`;
    const notModified = async () => (await tileResponses.get()).values.find((v) => v.labels.level === "0" && v.labels.status === "304")?.value ?? 0;
    const before = await notModified();
    const etag = (await fetch(path)).headers.get("etag")!;
    const again = await fetch(path, { headers: { "if-none-match": etag } });
    expect([again.status, again.headers.get("etag"), (await again.arrayBuffer()).byteLength]).toEqual([304, etag, 0]);
    expect(await notModified()).toBe(before + 1);
    await client.setPixels({ pixels: [{ x: TILE_SIZE + 1, y: 0, color: 2 }] });
    expect((await fetch(path, { headers: { "if-none-match": etag } })).status).toBe(304);
    await client.setPixels({ pixels: [{ x: 2, y: 2, color: 3 }] });
    const changed = await fetch(path, { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
  });

  it("serves a never-painted tile as a PNG under 200 bytes at version 0", async () => {
    await start();
    await client.setPixels({ pixels: [{ x: 1, y: 1, color: 1 }] });
    const res = await fetch(`${url}/api/tiles/default/0/1/0.png`);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBeLessThan(200);
    expect(res.headers.get("x-tile-version")).toBe("0");
    expect(decodeTilePng(body).pixels.every((b) => b === 0xff)).toBe(true);
  });

  it("answers 404 for an unknown canvas or a tile outside the canvas, 400 for another path and 405 for another method", async () => {
    await start();
    expect((await fetch(`${url}/api/tiles/nope/0/0/0.png`)).status).toBe(404);
    expect((await fetch(`${url}/api/tiles/default/0/2/0.png`)).status).toBe(404);
    expect((await fetch(`${url}/api/tiles/default/2/0/0.png`)).status).toBe(404);
    expect((await fetch(`${url}/api/tiles/default/0/0.png`)).status).toBe(400);
    expect((await fetch(`${url}/api/tiles/default/0/0/0.jpg`)).status).toBe(400);
    expect((await fetch(`${url}/api/tiles/default/0/0/0.png`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${url}/api/tiles/other/0/0/0.png`)).status).toBe(200);
  });

  it("serves tiles through apiHandler too, as npm start's one URL mounts it", async () => {
    await start();
    host = createServer((req, res) => (req.url?.startsWith("/api/") ? canvas.apiHandler(req, res) : res.writeHead(418).end()));
    const hostUrl = await listen(host);
    const res = await fetch(`${hostUrl}/api/tiles/default/0/0/0.png`);
    expect([res.status, res.headers.get("content-type")]).toEqual([200, "image/png"]);
  });

  it("GetTile answers the same tile with its stamps and the canvas's tiling, and OutOfRange outside the canvas", async () => {
    await start();
    const { seq, epoch } = await client.setPixels({ pixels: [{ x: TILE_SIZE + 2, y: 1, color: 0xabcdef }] });
    const tile = await client.getTile({ level: 0, tx: 1, ty: 0 });
    expect(tile).toMatchObject({ canvasId: "default", level: 0, tx: 1, ty: 0, width: 44, height: TILE_SIZE, encoding: TileEncoding.PNG, seq, epoch, version: seq });
    expect(tile).toMatchObject({ tileSize: TILE_SIZE, canvasWidth: W, canvasHeight: H, levelCount: 2 });
    const http = new Uint8Array(await (await fetch(`${url}/api/tiles/default/0/1/0.png`)).arrayBuffer());
    expect(Buffer.from(tile.data).equals(Buffer.from(http))).toBe(true);
    const err = await client.getTile({ level: 0, tx: 2, ty: 0 }).then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.OutOfRange);
  });

  it("refuses GetCanvas of a canvas above 2048x2048 with FailedPrecondition pointing at tiles, and serves its tiles", async () => {
    await start(4096, 2048);
    const err = await client.getCanvas({}).then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toMatch(/GetTile/);
    await client.setPixels({ pixels: [{ x: 4095, y: 2047, color: 0 }] });
    const tile = await client.getTile({ level: 0, tx: 15, ty: 7 });
    expect(decodeTilePng(tile.data).pixels.subarray(-3)).toEqual(new Uint8Array([0, 0, 0]));
  });
});

describe("etagMatches", () => {
  it("matches the same tag, weak or strong, in a list or as *, and nothing else", () => {
    expect(etagMatches('"1-2"', '"1-2"')).toBe(true);
    expect(etagMatches('W/"1-2", "3-4"', '"1-2"')).toBe(true);
    expect(etagMatches("*", '"1-2"')).toBe(true);
    expect(etagMatches('"1-3"', '"1-2"')).toBe(false);
    expect(etagMatches(undefined, '"1-2"')).toBe(false);
  });
});
