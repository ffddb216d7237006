import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ClientFrameSchema, CloseCode, ErrorCode, ServerFrameSchema, type ClientFrame, type ServerFrame } from "../../gen/pixel/v1/realtime_pb.js";
import { PixelBatchSchema, type PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { fetchSession, testSessionKeys } from "../../tools/process/session.js";
import { Counter, Gauge, Histogram } from "prom-client";
import { batchPixels } from "../../protocol/pixel-columns.js";
import { tileOfPixel, tileRect, tilesOfRect, type TileCoord } from "../../protocol/tile-grid.js";
import { httpTileReader } from "../../web/src/protocol/http-tile-reader.js";
import { systemClock } from "../../web/src/protocol/clock.js";
import { TileCopies } from "../../web/src/protocol/tile-copies.js";
import { createCanvasClient, createCanvasTransport, type CanvasClient } from "./upstream/canvas-client.js";
import * as gatewayMetrics from "./gateway-metrics.js";

// Real processes: redis-server, one canvas service, two gateways (built with `npx tsc -p tsconfig.build.json`).
// The canvas is 600 x 300: level-0 tiles 0:0, 1:0, 2:0 above 0:1, 1:1, 2:1.
const WIDTH = 600;
const HEIGHT = 300;

type Frame = Exclude<ServerFrame["frame"], { case: undefined }>;
type FrameValue<C extends Frame["case"]> = Extract<Frame, { case: C }>["value"];

/** A level-0 tile as "tx:ty". */
const name = (t: TileCoord) => `${t.tx}:${t.ty}`;

/**
 * A test client speaking protocol 2 (or the one its Hello names) over a real WebSocket: it records
 * every frame, and keeps the tiles it watches exact as the web app does (TileCopies: read over
 * HTTP, then the watch stream).
 */
class TestClient {
  frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  tiles: TileCopies | undefined;
  /** Seqs of every batch received, in arrival order. */
  batchSeqs: bigint[] = [];
  /** The batches received, in arrival order. */
  batches: PixelBatch[] = [];
  /** How many received batches carried their pixels in PixelBatch.columns (protocol 4). */
  columnBatches = 0;

  private constructor(
    readonly ws: WebSocket,
    private readonly tileBase: string,
  ) {
    ws.on("message", (data: Buffer) => this.receive(fromBinary(ServerFrameSchema, data).frame));
    ws.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on("error", () => undefined);
  }

  /** Opens /ws with a session got from the same gateway, as the web app arrives with one. */
  static async open(port: number, tileBase: string): Promise<TestClient> {
    const { cookie } = await fetchSession(`http://127.0.0.1:${port}`);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new TestClient(ws, tileBase);
  }

  send(frame: ClientFrame["frame"]): void {
    this.ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })));
  }

  async hello(name = "tester", protocol = 2): Promise<FrameValue<"welcome">> {
    const before = this.of("welcome").length;
    this.send({ case: "hello", value: { canvasId: "", name, lastSeq: 0n, lastEpoch: 0n, protocol } as never });
    await waitFor("welcome", () => this.of("welcome").length > before, 10_000, 10);
    const welcome = this.of("welcome")[before]!;
    this.tiles ??= new TileCopies(httpTileReader(this.tileBase, () => welcome.canvasId), systemClock, () => undefined, welcome.width, welcome.height);
    return welcome;
  }

  /** Watches `tiles` (every tile when omitted) and resolves with the Watching, the tiles' reads started. */
  async watch(tiles?: TileCoord[], afterSeq = 0n, afterEpoch = 0n): Promise<FrameValue<"watching">> {
    const copies = this.tiles!;
    const set = tiles ?? tilesOfRect(copies.width, copies.height, 0, { x: 0, y: 0, width: copies.width, height: copies.height });
    const before = this.of("watching").length;
    this.send({ case: "watch", value: { tiles: set, afterSeq, afterEpoch } as never });
    await waitFor("watching", () => this.of("watching").length > before, 10_000, 10);
    const watching = this.of("watching")[before]!;
    copies.watch(set, watching);
    return watching;
  }

  /** Waits until every watched tile is read. */
  async tilesLoaded(): Promise<void> {
    await waitFor("tiles loaded", () => this.tiles!.loadedCount === this.tiles!.size, 10_000, 10);
  }

  /** The client's copy of a canvas rectangle as row-major RGB (throws where a tile is not loaded). */
  region(rect: { x: number; y: number; width: number; height: number }): Buffer {
    const out = Buffer.alloc(rect.width * rect.height * 3);
    for (let y = 0; y < rect.height; y++) {
      for (let x = 0; x < rect.width; x++) {
        const color = this.tiles!.colorAt(rect.x + x, rect.y + y);
        if (color === undefined) throw new Error(`pixel ${rect.x + x},${rect.y + y} is not loaded`);
        out.writeUIntBE(color, (y * rect.width + x) * 3, 3);
      }
    }
    return out;
  }

  place(clientSeq: number, pixels: { x: number; y: number; color: number }[]): void {
    this.send({ case: "place", value: { clientSeq, pixels } as never });
  }

  async ackFor(clientSeq: number): Promise<bigint> {
    await waitFor(`ack ${clientSeq}`, () => this.of("ack").some((a) => a.clientSeq === clientSeq) || this.of("error").some((e) => e.clientSeq === clientSeq), 10_000, 10);
    const err = this.of("error").find((e) => e.clientSeq === clientSeq);
    if (err) throw new Error(`Place ${clientSeq} failed: ${ErrorCode[err.code]} ${err.message}`);
    return this.of("ack").find((a) => a.clientSeq === clientSeq)!.seq;
  }

  of<C extends Frame["case"]>(kind: C): FrameValue<C>[] {
    return this.frames.flatMap((f): FrameValue<C>[] => (f.case === kind ? [f.value as FrameValue<C>] : []));
  }

  close(): void {
    this.tiles?.clear();
    this.ws.close();
  }

  private receive(frame: ServerFrame["frame"]): void {
    if (frame.case === undefined) throw new Error("empty ServerFrame");
    this.frames.push(frame);
    if (frame.case === "batch") this.apply(frame.value);
    else if (frame.case === "batches") for (const batch of frame.value.batches) this.apply(batch);
  }

  private apply(batch: PixelBatch): void {
    // The filtered stream has holes but never goes back: anything else is a bug the test must see.
    const last = this.batchSeqs.at(-1);
    if (last !== undefined && batch.seq <= last) throw new Error(`batch ${batch.seq} after ${last}`);
    this.batchSeqs.push(batch.seq);
    if (batch.columns) {
      this.columnBatches++;
      batch.pixels = batchPixels(batch);
    }
    this.batches.push(batch);
    this.tiles?.applyBatch(batch);
  }
}

/** The seqs among `batches` that touch one of `tiles`. */
function seqsTouching(batches: readonly PixelBatch[], tiles: readonly TileCoord[]): bigint[] {
  const names = new Set(tiles.map(name));
  return batches.filter((b) => b.pixels.some((p) => names.has(name(tileOfPixel(p.x, p.y))))).map((b) => b.seq);
}

/** A region of a GetCanvas snapshot as row-major RGB. */
function regionOf(snap: { width: number; pixels: Uint8Array }, rect: { x: number; y: number; width: number; height: number }): Buffer {
  const out = Buffer.alloc(rect.width * rect.height * 3);
  for (let y = 0; y < rect.height; y++) out.set(snap.pixels.subarray(((rect.y + y) * snap.width + rect.x) * 3, ((rect.y + y) * snap.width + rect.x + rect.width) * 3), y * rect.width * 3);
  return out;
}

describe("gateway end to end (redis + canvas service + two gateways)", () => {
  let redis: TestRedis;
  let canvasProc: ServiceProcess;
  const gateways: ServiceProcess[] = [];
  const gwPorts: number[] = [];
  let canvas: CanvasClient;
  const clients: TestClient[] = [];
  let tileBase = "";
  const connect = async (port: number) => {
    const c = await TestClient.open(port, tileBase);
    clients.push(c);
    return c;
  };
  const alive = async (port: number) => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;

  beforeAll(async () => {
    redis = await startRedis();
    const SESSION_KEYS = testSessionKeys();
    const grpcPort = await freePort();
    const httpPort = await freePort();
    canvasProc = await startService(
      "e2e-gateway-canvas",
      "services/canvas/main.js",
      { REDIS_URL: redis.url, CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), INSTANCE_ID: "canvas-1", CANVAS_WIDTH: String(WIDTH), CANVAS_HEIGHT: String(HEIGHT), SESSION_KEYS },
      `http://127.0.0.1:${httpPort}/readyz`,
    );
    for (const name of ["gw1", "gw2"]) {
      const port = await freePort();
      gwPorts.push(port);
      gateways.push(
        await startService(
          `e2e-gateway-${name}`,
          "services/gateway/main.js",
          // gw2 lists an origin; gw1 allows only the page's own (and clients that send none).
          { REDIS_URL: redis.url, GATEWAY_PORT: String(port), CANVAS_URL: `http://127.0.0.1:${grpcPort}`, INSTANCE_ID: name, PIXELS_PER_SECOND: "10000", PIXEL_BURST: "10000", SESSION_KEYS, ...(name === "gw2" ? { ALLOWED_ORIGINS: "https://pixels.example" } : {}) },
          `http://127.0.0.1:${port}/readyz`,
        ),
      );
    }
    canvas = createCanvasClient(createCanvasTransport(`http://127.0.0.1:${grpcPort}`));
    tileBase = `http://127.0.0.1:${httpPort}`;
  });

  afterAll(async () => {
    for (const c of clients) {
      c.tiles?.clear();
      c.ws.terminate();
    }
    for (const g of gateways) await g.stop();
    await canvasProc?.stop();
    await redis?.stop();
  });

  it("delivers pixels placed on gateway 1 to clients watching every tile on both gateways in seq order; the placer is acked and their tiles equal GetCanvas", async () => {
    const placer = await connect(gwPorts[0]!);
    const sameGw = await connect(gwPorts[0]!);
    const otherGw = await connect(gwPorts[1]!);
    for (const c of [placer, sameGw, otherGw]) {
      const welcome = await c.hello();
      expect(welcome).toMatchObject({ width: WIDTH, height: HEIGHT, tileSize: 256, protocol: 4 });
      expect(welcome.pixels.length).toBe(0);
    }
    const start = (await placer.watch()).seq;
    await sameGw.watch();
    await otherGw.watch();
    const acks: bigint[] = [];
    // A burst (coalesced into fewer calls) across tiles, and then one at a time.
    for (let i = 0; i < 20; i++) placer.place(i + 1, [{ x: i * 29, y: 3 + i * 14, color: 0x100000 + i }, { x: i, y: 4, color: 0xabcdef }]);
    for (let i = 0; i < 20; i++) acks.push(await placer.ackFor(i + 1));
    for (let i = 20; i < 25; i++) {
      placer.place(i + 1, [{ x: 599 - i, y: 299, color: 0x00ff00 + i }]);
      acks.push(await placer.ackFor(i + 1));
    }
    const last = acks.reduce((a, b) => (a > b ? a : b));
    expect(acks.every((s) => s > start)).toBe(true);
    const stored = await canvas.getCanvas("default", 5000);
    expect(stored.seq).toBe(last);
    for (const c of [placer, sameGw, otherGw]) {
      await waitFor("all batches", () => c.batchSeqs.at(-1) === last, 10_000, 10);
      // Every seq exactly once, consecutive, from the Watching on.
      expect(c.batchSeqs).toEqual(Array.from({ length: Number(last - start) }, (_, i) => start + 1n + BigInt(i)));
      await c.tilesLoaded();
      expect(c.region({ x: 0, y: 0, width: WIDTH, height: HEIGHT }).equals(Buffer.from(stored.pixels))).toBe(true);
    }
  });

  it("gives a protocol 4 client the same batches as a protocol 2 client, with the pixels in PixelBatch.columns", async () => {
    const placer = await connect(gwPorts[0]!);
    const columns = await connect(gwPorts[1]!);
    const pixels = await connect(gwPorts[1]!);
    await placer.hello("placer");
    await columns.hello("columns", 4);
    await pixels.hello("pixels", 2);
    const start = (await columns.watch()).seq;
    await pixels.watch();
    let last = 0n;
    for (let i = 0; i < 10; i++) {
      placer.place(300 + i, [{ x: 7 * i, y: 250 + i, color: 0x010203 * i }, { x: 599 - i, y: 0, color: 0xffffff - i }]);
      last = await placer.ackFor(300 + i);
    }
    for (const c of [columns, pixels]) await waitFor("all batches", () => c.batchSeqs.at(-1) === last, 10_000, 10);
    expect(columns.batchSeqs).toEqual(Array.from({ length: Number(last - start) }, (_, i) => start + 1n + BigInt(i)));
    expect(columns.columnBatches).toBe(columns.batches.length);
    expect(pixels.columnBatches).toBe(0);
    const seen = (c: TestClient) => c.batches.map((b) => [b.seq, b.epoch, b.pixels.map((p) => [p.x, p.y, p.color])]);
    expect(seen(columns)).toEqual(seen(pixels));
    const stored = await canvas.getCanvas("default", 5000);
    await columns.tilesLoaded();
    expect(columns.region({ x: 0, y: 0, width: WIDTH, height: HEIGHT }).equals(Buffer.from(stored.pixels))).toBe(true);
  });

  it("sends clients watching different tiles exactly their tiles' batches, and nothing for batches elsewhere", async () => {
    const left = await connect(gwPorts[0]!);
    const right = await connect(gwPorts[1]!);
    const placer = await connect(gwPorts[0]!);
    const leftTiles = [{ tx: 0, ty: 0 }];
    const rightTiles = [{ tx: 2, ty: 1 }];
    for (const c of [left, right, placer]) await c.hello();
    const from = (await left.watch(leftTiles)).seq;
    await right.watch(rightTiles);
    const placed: PixelBatch[] = [];
    const spots = [
      [{ x: 10, y: 10 }], // 0:0
      [{ x: 590, y: 290 }], // 2:1
      [{ x: 300, y: 100 }], // 1:0: nobody watches it
      [{ x: 20, y: 20 }, { x: 520, y: 270 }], // 0:0 and 2:1
      [{ x: 100, y: 280 }], // 0:1
    ];
    for (const [i, pixels] of spots.entries()) {
      const colored = pixels.map((p) => ({ ...p, color: 0x2000 + i }));
      placer.place(200 + i, colored);
      placed.push(create(PixelBatchSchema, { seq: await placer.ackFor(200 + i), pixels: colored }));
    }
    const last = placed.at(-1)!.seq;
    // The right client's last batch is the 4th; wait for both, then for anything stray to arrive.
    await waitFor("left batches", () => left.batchSeqs.at(-1) === placed[3]!.seq, 10_000, 10);
    await waitFor("right batches", () => right.batchSeqs.at(-1) === placed[3]!.seq, 10_000, 10);
    // A last batch on the left tile: once it arrived, anything stray sent before it would have too.
    placer.place(299, [{ x: 1, y: 1, color: 0x999999 }]);
    const sentinelSeq = await placer.ackFor(299);
    await waitFor("last left batch", () => left.batchSeqs.at(-1) === sentinelSeq, 10_000, 10);
    expect(left.batchSeqs).toEqual([...seqsTouching(placed, leftTiles), sentinelSeq]);
    expect(right.batchSeqs).toEqual(seqsTouching(placed, rightTiles));
    expect(left.batchSeqs.every((s) => s > from)).toBe(true);
    expect(last).toBeLessThan(sentinelSeq);
    const stored = await canvas.getCanvas("default", 5000);
    for (const [c, tiles] of [[left, leftTiles], [right, rightTiles]] as const) {
      await c.tilesLoaded();
      const rect = tileRect(WIDTH, HEIGHT, 0, tiles[0]!)!;
      expect(c.region(rect).equals(regionOf(stored, rect))).toBe(true);
    }
  });

  it("gives a client that pans the new tiles and then their live batches with no gap while another client paints there", async () => {
    const panner = await connect(gwPorts[1]!);
    const painter = await connect(gwPorts[0]!);
    await panner.hello();
    await painter.hello();
    await panner.watch([{ tx: 0, ty: 0 }]);
    await panner.tilesLoaded();
    // The painter keeps painting tile 1:1 while the panner moves onto it.
    let painting = true;
    let clientSeq = 400;
    const painted: Array<Promise<bigint>> = [];
    const paint = (async () => {
      while (painting) {
        const seq = ++clientSeq;
        painter.place(seq, [{ x: 256 + (seq % 200), y: 256 + (seq % 40), color: 0x300000 + seq }]);
        painted.push(painter.ackFor(seq));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const moved = await panner.watch([{ tx: 1, ty: 1 }]);
    await new Promise((r) => setTimeout(r, 150));
    painting = false;
    await paint;
    const seqs = await Promise.all(painted);
    const last = seqs.reduce((a, b) => (a > b ? a : b));
    await waitFor("panner caught up", () => panner.batchSeqs.at(-1) === last, 10_000, 10);
    // Every batch after Watching.seq reached the panner, in order, none missing.
    // Places the gateway coalesced into one SetPixels share a seq.
    const after = [...new Set(seqs.filter((s) => s > moved.seq))].sort((a, b) => (a < b ? -1 : 1));
    expect(after.length).toBeGreaterThan(5);
    expect(panner.batchSeqs.filter((s) => s > moved.seq)).toEqual(after);
    await panner.tilesLoaded();
    expect(panner.tiles!.copies().map((t) => name(t.coord))).toEqual(["1:1"]);
    const rect = tileRect(WIDTH, HEIGHT, 0, { tx: 1, ty: 1 })!;
    expect(panner.region(rect).equals(regionOf(await canvas.getCanvas("default", 5000), rect))).toBe(true);
  });

  it("refuses a Hello of protocol 1 with UNSUPPORTED_PROTOCOL and close 4006, saying to reload", async () => {
    const old = await connect(gwPorts[0]!);
    old.send({ case: "hello", value: { canvasId: "", name: "old page", lastSeq: 0n, lastEpoch: 0n } as never });
    await waitFor("close", () => old.closed !== undefined, 5000, 10);
    expect(old.of("error")).toMatchObject([{ code: ErrorCode.UNSUPPORTED_PROTOCOL }]);
    expect(old.closed).toMatchObject({ code: CloseCode.PROTOCOL_TOO_OLD, reason: expect.stringContaining("reload") });
    expect(old.of("welcome")).toEqual([]);
  });

  it("answers garbage bytes with MALFORMED_FRAME and stays up", async () => {
    const c = await connect(gwPorts[0]!);
    c.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]));
    c.ws.send("a text frame");
    await waitFor("two errors", () => c.of("error").length === 2, 5000, 10);
    expect(c.of("error").map((e) => e.code)).toEqual([ErrorCode.MALFORMED_FRAME, ErrorCode.MALFORMED_FRAME]);
    expect(c.closed).toBeUndefined();
    expect((await c.hello()).canvasId).toBe("default");
    expect(await alive(gwPorts[0]!)).toBe(true);
  });

  it("refuses an out-of-range pixel with INVALID_ARGUMENT naming it, storing nothing", async () => {
    const c = await connect(gwPorts[1]!);
    const { seq, width } = await c.hello();
    c.place(7, [{ x: width, y: 0, color: 0xff0000 }]);
    await waitFor("error", () => c.of("error").length === 1, 5000, 10);
    expect(c.of("error")[0]).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, clientSeq: 7, message: expect.stringContaining(`x=${width}`) });
    expect((await canvas.getCanvas("default", 5000)).seq).toBe(seq);
  });

  it("answers a Hello for an unknown canvas with NOT_FOUND", async () => {
    const c = await connect(gwPorts[0]!);
    c.send({ case: "hello", value: { canvasId: "no-such-canvas", name: "", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never });
    await waitFor("error", () => c.of("error").length === 1, 5000, 10);
    expect(c.of("error")[0]).toMatchObject({ code: ErrorCode.NOT_FOUND, message: expect.stringContaining("no-such-canvas") });
    expect(c.of("welcome")).toEqual([]);
  });

  it("refuses upgrades from other sites' origins with 403 under the gateway entry, with and without ALLOWED_ORIGINS", async () => {
    const status = (port: number, origin: string | undefined) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, origin === undefined ? {} : { origin });
        ws.on("error", () => undefined);
        ws.once("open", () => {
          ws.terminate();
          resolve(101);
        });
        ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      });
    const [gw1, gw2] = [gwPorts[0]!, gwPorts[1]!];
    for (const origin of ["https://evil.example", "null", "https://pixels.example.evil.example", `http://127.0.0.1:${gw2}.evil.example`]) {
      expect(await status(gw2, origin), origin).toBe(403);
    }
    expect(await status(gw2, "https://pixels.example")).toBe(101);
    expect(await status(gw2, `http://127.0.0.1:${gw2}`)).toBe(101);
    expect(await status(gw1, "https://pixels.example")).toBe(403);
    expect(await status(gw1, `http://127.0.0.1:${gw1}`)).toBe(101);
    expect(await status(gw1, undefined)).toBe(101);
  });

  it("closes a 1 MiB frame with 1009 and stays up", async () => {
    const c = await connect(gwPorts[0]!);
    c.ws.send(Buffer.alloc(1024 * 1024, 1));
    await waitFor("close", () => c.closed !== undefined, 5000, 10);
    expect(c.closed?.code).toBe(CloseCode.MESSAGE_TOO_BIG);
    expect(await alive(gwPorts[0]!)).toBe(true);
    const again = await connect(gwPorts[0]!);
    expect((await again.hello()).canvasId).toBe("default");
  });

  it("resumes a reconnecting client on the other gateway: Watch.after_seq replays exactly the missed batches of its tiles", async () => {
    const watched = [{ tx: 0, ty: 0 }];
    const leaving = await connect(gwPorts[0]!);
    await leaving.hello();
    const { seq: lastSeq, epoch } = await leaving.watch(watched);
    await leaving.tilesLoaded();
    // The socket goes; its tiles stay with the client, as the web app keeps them across a reconnect.
    leaving.ws.close();
    const placer = await connect(gwPorts[0]!);
    await placer.hello();
    const missed: bigint[] = [];
    for (let i = 1; i <= 3; i++) {
      placer.place(100 + i, [{ x: i, y: 9, color: 0x123456 * i }]);
      missed.push(await placer.ackFor(100 + i));
    }
    placer.place(110, [{ x: 400, y: 9, color: 0x654321 }]); // another tile: not replayed
    await placer.ackFor(110);
    // Come back on the other gateway, as after losing one, with the tiles of the old socket.
    const back = await connect(gwPorts[1]!);
    back.tiles = leaving.tiles;
    await back.hello();
    const watching = await back.watch(watched, lastSeq, epoch);
    expect(watching.replayed).toBe(true);
    // Replayed up to Watching.seq, live after it: exactly the missed batches of the tile.
    await waitFor("missed batches", () => back.batchSeqs.length >= missed.length, 5000, 10);
    expect(back.batchSeqs).toEqual(missed);
    const rect = tileRect(WIDTH, HEIGHT, 0, watched[0]!)!;
    expect(back.region(rect).equals(regionOf(await canvas.getCanvas("default", 5000), rect))).toBe(true);
  });

  it("exposes every gateway metric on /metrics of a running gateway, with samples for the traffic it served", async () => {
    // The names come from the module, so a metric added later is covered without editing this list.
    const names = Object.values(gatewayMetrics)
      .filter((m): m is Counter | Gauge | Histogram => m instanceof Counter || m instanceof Gauge || m instanceof Histogram)
      .map((m) => (m as unknown as { name: string }).name);
    expect(names.length).toBeGreaterThanOrEqual(14);
    const res = await fetch(`http://127.0.0.1:${gwPorts[0]}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of [...names, "pixel_redis_connected"]) expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
    /** The value of one sample line, e.g. sample('pixel_gateway_frames_in_total{type="place"}'). */
    const sample = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    // Gateway 1 served Places, Acks, batches, malformed frames and closed sockets in the tests above.
    expect(sample("pixel_gateway_connections_opened_total")).toBeGreaterThan(0);
    expect(sample("pixel_gateway_connections")).toBeGreaterThan(0);
    // Labelled by the code ws reports for the socket (1006 when a client never answered our close frame).
    expect(text).toMatch(/^pixel_gateway_connections_closed_total\{code="\d+"\} [1-9]/m);
    expect(sample('pixel_gateway_frames_in_total{type="place"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_frames_in_total{type="hello"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_frames_in_total{type="malformed"}')).toBeGreaterThanOrEqual(2);
    expect(sample('pixel_gateway_frames_out_total{type="ack"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_frames_out_total{type="welcome"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_frames_out_total{type="batch"}')).toBeGreaterThan(0);
    expect(sample("pixel_gateway_pixels_placed_total")).toBeGreaterThan(0);
    expect(sample("pixel_gateway_pixels_broadcast_total")).toBeGreaterThan(0);
    expect(sample("pixel_gateway_fanout_latency_seconds_count")).toBeGreaterThan(0);
    expect(sample("pixel_gateway_fanout_frame_batches_count")).toBeGreaterThan(0);
    expect(sample('pixel_gateway_setpixels_duration_seconds_count{result="ok"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_errors_total{code="MALFORMED_FRAME"}')).toBeGreaterThanOrEqual(2);
    expect(sample("pixel_gateway_write_queue_pixels")).toBe(0);
    expect(sample('pixel_redis_connected{role="bus"}')).toBe(1);
    expect(sample('pixel_redis_connected{role="presence"}')).toBe(1);
  });

  it("on SIGTERM closes its sockets with 1012 and exits cleanly", async () => {
    const c = await connect(gwPorts[1]!);
    await c.hello();
    const code = await gateways[1]!.stop();
    await waitFor("close", () => c.closed !== undefined, 5000, 10);
    expect(c.closed?.code).toBe(CloseCode.SERVICE_RESTART);
    expect(code).toBe(0);
  });
});
