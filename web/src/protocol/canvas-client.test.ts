import { create } from "@bufbuild/protobuf";
import { beforeEach, describe, expect, it } from "vitest";
import { PixelBatchSchema, PixelSchema } from "../../../gen/pixel/v1/canvas_pb.js";
import { AckSchema, BatchesSchema, CloseCode, ErrorCode, ErrorSchema, PresenceSchema, ServerFrameSchema, WatchingSchema, WelcomeSchema, type ServerFrame } from "../../../gen/pixel/v1/realtime_pb.js";
import { CanvasClient, type CanvasClientEvents, type ConnectionState } from "./canvas-client.js";
import { UNLOADED_COLOR } from "./canvas-state.js";
import { FakeSocketServer, type FakeSocket } from "./test-support/fake-socket.js";
import { FakeTiles, settleReads } from "./test-support/fake-tiles.js";
import { ManualClock } from "./test-support/manual-clock.js";
import { CONNECT_TIMEOUT_MS, APP_PING_INTERVAL_MS, SILENT_SOCKET_TIMEOUT_MS, MAX_BACKOFF_MS, WATCH_DEBOUNCE_MS } from "./timing.js";

const W = 4;
const H = 4;

function welcome(seq: bigint, opts: { epoch?: bigint; width?: number; height?: number } = {}): ServerFrame {
  return create(ServerFrameSchema, {
    frame: { case: "welcome", value: create(WelcomeSchema, { canvasId: "default", width: opts.width ?? W, height: opts.height ?? H, seq, epoch: opts.epoch ?? 1n, maxPixelsPerPlace: 3, pixelsPerSecond: 100, connectionId: "c-1", tileSize: 256, levelCount: 1, protocol: 2 }) },
  });
}

function watching(seq: bigint, replayed = false, epoch = 1n): ServerFrame {
  return create(ServerFrameSchema, { frame: { case: "watching", value: create(WatchingSchema, { seq, epoch, replayed }) } });
}

function batch(seq: bigint, pixels: Array<[number, number, number]>, epoch = 1n): ServerFrame {
  return create(ServerFrameSchema, {
    frame: { case: "batch", value: create(PixelBatchSchema, { seq, epoch, canvasId: "default", pixels: pixels.map(([x, y, color]) => create(PixelSchema, { x, y, color })) }) },
  });
}

/** A coalesced `batches` frame of the given batch frames' batches, as the gateway sends when several arrive together. */
function batches(...frames: ServerFrame[]): ServerFrame {
  const list = frames.map((f) => {
    if (f.frame.case !== "batch") throw new Error("batches() takes batch frames");
    return f.frame.value;
  });
  return create(ServerFrameSchema, { frame: { case: "batches", value: create(BatchesSchema, { batches: list }) } });
}

function ack(clientSeq: number, seq: bigint): ServerFrame {
  return create(ServerFrameSchema, { frame: { case: "ack", value: create(AckSchema, { clientSeq, seq }) } });
}

function helloOf(socket: FakeSocket, index = 0): { lastSeq: bigint; lastEpoch: bigint; name: string; protocol: number } {
  const f = socket.sent[index]?.frame;
  if (f?.case !== "hello") throw new Error(`frame ${index} is ${f?.case}, not hello`);
  return f.value;
}

/** The last Watch the client sent on `socket`. */
function lastWatch(socket: FakeSocket) {
  const f = socket.sent.filter((s) => s.frame.case === "watch").at(-1)?.frame;
  if (f?.case !== "watch") throw new Error("no Watch sent");
  return { tiles: f.value.tiles.map((t) => `${t.tx}:${t.ty}`), afterSeq: f.value.afterSeq, afterEpoch: f.value.afterEpoch };
}

describe("CanvasClient", () => {
  let clock: ManualClock;
  let server: FakeSocketServer;
  let tiles: FakeTiles;
  let client: CanvasClient;
  let states: ConnectionState[];
  let events: Partial<{ [K in keyof CanvasClientEvents]: Array<CanvasClientEvents[K]> }>;

  function record<K extends keyof CanvasClientEvents>(name: K): void {
    const list: Array<CanvasClientEvents[K]> = [];
    (events as Record<string, unknown>)[name] = list;
    client.on(name, (e) => list.push(e));
  }

  /** Opens a socket, welcomes it at `seq`, answers its Watch and lets its tile reads land. */
  async function goLive(seq = 10n): Promise<FakeSocket> {
    tiles.seq = seq;
    client.start();
    const socket = server.last;
    socket.open();
    socket.deliver(welcome(seq));
    socket.deliver(watching(seq));
    await settleReads();
    return socket;
  }

  beforeEach(() => {
    clock = new ManualClock();
    server = new FakeSocketServer();
    tiles = new FakeTiles(W, H);
    client = new CanvasClient({ url: "ws://test/ws", socketFactory: server.factory, name: "ann", clock, random: () => 0.999, watchAll: true, tileReader: tiles.reader });
    states = [];
    events = {};
    client.on("state", (e) => states.push(e.state));
    for (const name of ["canvas", "presence", "error", "ack", "rollback", "batch", "protocolError"] as const) record(name);
  });

  it("connects with a protocol 4 Hello, goes live on Welcome, watches its tiles and reads them", async () => {
    expect(client.state).toBe("idle");
    tiles.paint(2, 3, 0xabcdef);
    const socket = await goLive(10n);
    expect(socket.url).toBe("ws://test/ws");
    expect(helloOf(socket)).toMatchObject({ name: "ann", lastSeq: 0n, lastEpoch: 0n, protocol: 4 });
    expect(socket.sentCases()).toEqual(["hello", "watch"]);
    expect(lastWatch(socket)).toEqual({ tiles: ["0:0"], afterSeq: 0n, afterEpoch: 0n });
    expect(tiles.reads).toEqual([{ tile: { tx: 0, ty: 0 }, minSeq: 10n }]);
    expect(states).toEqual(["connecting", "live"]);
    expect(client.canvas.seq).toBe(10n);
    expect(client.canvas.colorAt(2, 3)).toBe(0xabcdef);
    expect(client.limits).toEqual({ maxPixelsPerPlace: 3, pixelsPerSecond: 100 });
    expect(events.canvas).toContainEqual({ full: true });
  });

  it("applies batches newer than the stream (a filtered stream has holes), ignores duplicates, and emits presence", async () => {
    const socket = await goLive(10n);
    socket.deliver(batch(11n, [[1, 1, 0xff0000]]));
    socket.deliver(batch(11n, [[1, 1, 0x00ff00]]));
    socket.deliver(batch(15n, [[2, 1, 0x0000ff]]));
    socket.deliver(create(ServerFrameSchema, { frame: { case: "presence", value: create(PresenceSchema, { online: 2, names: ["ann", "bob"] }) } }));
    expect(client.canvas.colorAt(1, 1)).toBe(0xff0000);
    expect(client.canvas.colorAt(2, 1)).toBe(0x0000ff);
    expect(events.batch?.map((e) => e.batch.seq)).toEqual([11n, 15n]);
    expect(events.presence).toEqual([{ online: 2, names: ["ann", "bob"] }]);
    expect(client.state).toBe("live");
  });

  it("applies a coalesced batches frame like its batches in a row: duplicates ignored, one batch event each", async () => {
    const socket = await goLive(10n);
    socket.deliver(batches(batch(10n, [[0, 0, 0x0000ff]]), batch(11n, [[1, 1, 0xff0000]]), batch(12n, [[1, 1, 0x00ff00], [2, 2, 0x000001]]), batch(13n, [[3, 3, 0x123456]])));
    expect(client.canvas.seq).toBe(13n);
    expect(client.canvas.colorAt(0, 0)).toBe(0);
    expect(client.canvas.colorAt(1, 1)).toBe(0x00ff00);
    expect(client.canvas.colorAt(2, 2)).toBe(0x000001);
    expect(client.canvas.colorAt(3, 3)).toBe(0x123456);
    expect(events.batch?.map((e) => e.batch.seq)).toEqual([11n, 12n, 13n]);
  });

  it("buffers the batches of a tile being read and applies only those after the read's seq", async () => {
    tiles.hold = true;
    client.start();
    const socket = server.last;
    socket.open();
    socket.deliver(welcome(10n));
    socket.deliver(watching(10n));
    expect(client.canvas.colorAt(0, 0)).toBe(UNLOADED_COLOR);
    socket.deliver(batch(11n, [[0, 0, 0x111111]]));
    socket.deliver(batch(12n, [[1, 0, 0x222222]]));
    // The read lands at seq 11: it holds batch 11, not 12.
    tiles.paint(0, 0, 0x111111);
    tiles.seq = 11n;
    tiles.release();
    await settleReads();
    expect(client.canvas.colorAt(0, 0)).toBe(0x111111);
    expect(client.canvas.colorAt(1, 0)).toBe(0x222222);
    expect(client.canvas.tiles.copies()).toEqual([{ coord: { tx: 0, ty: 0 }, copy: { state: "loaded", seq: 12n, epoch: 1n } }]);
  });

  it("reads a tile again when the answer is older than its Watching (a stale cache)", async () => {
    tiles.seq = 7n;
    client.start();
    server.last.open();
    server.last.deliver(welcome(10n));
    server.last.deliver(watching(10n));
    await settleReads();
    expect(client.canvas.tiles.loadedCount).toBe(0);
    tiles.seq = 10n;
    clock.advance(MAX_BACKOFF_MS);
    await settleReads();
    expect(tiles.reads.length).toBe(2);
    expect(client.canvas.tiles.loadedCount).toBe(1);
  });

  it("resumes on a new socket with Watch.after_seq and keeps its tiles when the gateway replayed", async () => {
    const first = await goLive(10n);
    first.deliver(batch(11n, [[0, 0, 0x111111]]));
    first.closeFromServer(1006);
    clock.advance(MAX_BACKOFF_MS);
    const second = server.last;
    second.open();
    second.deliver(welcome(13n));
    expect(lastWatch(second)).toEqual({ tiles: ["0:0"], afterSeq: 11n, afterEpoch: 1n });
    // The replay comes before Watching.
    second.deliver(batches(batch(12n, [[1, 0, 0x222222]]), batch(13n, [[2, 0, 0x333333]])));
    second.deliver(watching(13n, true));
    await settleReads();
    expect(tiles.reads.length).toBe(1);
    expect([0, 1, 2].map((x) => client.canvas.colorAt(x, 0))).toEqual([0x111111, 0x222222, 0x333333]);
    expect(client.canvas.seq).toBe(13n);
  });

  it("reads its tiles again when the gateway could not replay", async () => {
    const first = await goLive(10n);
    first.closeFromServer(1006);
    clock.advance(MAX_BACKOFF_MS);
    server.last.open();
    tiles.seq = 50n;
    tiles.paint(3, 3, 0x0a0b0c);
    server.last.deliver(welcome(50n));
    server.last.deliver(watching(50n, false));
    await settleReads();
    expect(tiles.reads.at(-1)).toEqual({ tile: { tx: 0, ty: 0 }, minSeq: 50n });
    expect(client.canvas.colorAt(3, 3)).toBe(0x0a0b0c);
  });

  it("reads its tiles again on a Welcome to a joined socket (the room re-read the canvas)", async () => {
    const socket = await goLive(10n);
    tiles.seq = 20n;
    tiles.paint(1, 2, 0x445566);
    socket.deliver(welcome(20n));
    await settleReads();
    expect(tiles.reads.at(-1)).toEqual({ tile: { tx: 0, ty: 0 }, minSeq: 20n });
    expect(client.canvas.colorAt(1, 2)).toBe(0x445566);
    expect(socket.sentCases()).toEqual(["hello", "watch"]);
  });

  it("drops its tiles and watches anew when a Welcome brings another epoch", async () => {
    const socket = await goLive(10n);
    tiles.epoch = 2n;
    tiles.seq = 0n;
    socket.deliver(welcome(0n, { epoch: 2n }));
    expect(client.canvas.tiles.size).toBe(0);
    expect(socket.sentCases()).toEqual(["hello", "watch", "watch"]);
    socket.deliver(watching(0n, false, 2n));
    await settleReads();
    expect(client.canvas.tiles.copies()).toEqual([{ coord: { tx: 0, ty: 0 }, copy: { state: "loaded", seq: 0n, epoch: 2n } }]);
  });

  it("watches only the tiles under the region it is given, once the view rests", async () => {
    const big = new FakeTiles(600, 300);
    const viewer = new CanvasClient({ url: "ws://test/ws", socketFactory: server.factory, clock, tileReader: big.reader });
    viewer.start();
    const socket = server.last;
    socket.open();
    socket.deliver(welcome(5n, { width: 600, height: 300 }));
    expect(lastWatch(socket).tiles).toEqual([]);
    socket.deliver(watching(5n));
    viewer.watchRegion({ x: 0, y: 0, width: 100, height: 100 });
    viewer.watchRegion({ x: 250, y: 250, width: 20, height: 20 });
    clock.advance(WATCH_DEBOUNCE_MS);
    expect(socket.sentCases()).toEqual(["hello", "watch", "watch"]);
    expect(lastWatch(socket).tiles).toEqual(["0:0", "1:0", "0:1", "1:1"]);
    socket.deliver(watching(6n));
    await settleReads();
    expect(big.reads.map((r) => `${r.tile.tx}:${r.tile.ty}@${r.minSeq}`)).toEqual(["0:0@6", "1:0@6", "0:1@6", "1:1@6"]);
    // Panning right drops the left column and reads the new one.
    viewer.watchRegion({ x: 300, y: 250, width: 250, height: 20 });
    clock.advance(WATCH_DEBOUNCE_MS);
    expect(lastWatch(socket).tiles).toEqual(["1:0", "2:0", "1:1", "2:1"]);
    socket.deliver(watching(7n));
    await settleReads();
    expect(viewer.canvas.tiles.copies().map((t) => `${t.coord.tx}:${t.coord.ty}`).sort()).toEqual(["1:0", "1:1", "2:0", "2:1"]);
    expect(big.reads.slice(4).map((r) => `${r.tile.tx}:${r.tile.ty}@${r.minSeq}`)).toEqual(["2:0@7", "2:1@7"]);
    viewer.close();
  });

  it("closes for good on UNSUPPORTED_PROTOCOL: the page must be reloaded", async () => {
    const socket = await goLive(10n);
    socket.deliver(create(ServerFrameSchema, { frame: { case: "error", value: create(ErrorSchema, { code: ErrorCode.UNSUPPORTED_PROTOCOL, message: "reload" }) } }));
    expect(client.state).toBe("closed");
    clock.advance(10 * MAX_BACKOFF_MS);
    expect(server.sockets.length).toBe(1);
  });

  it("reconnects with growing full-jitter backoff after losses and resets it once live", async () => {
    await goLive(10n);
    server.last.closeFromServer(1006);
    expect(client.state).toBe("reconnecting");
    // random() = 0.999, so each delay is just under its ceiling: 99, 199, 399 ms.
    const opened = server.sockets.length;
    clock.advance(98);
    expect(server.sockets.length).toBe(opened);
    clock.advance(1);
    expect(server.sockets.length).toBe(opened + 1);
    server.last.closeFromServer(1006);
    clock.advance(198);
    expect(server.sockets.length).toBe(opened + 1);
    clock.advance(1);
    expect(server.sockets.length).toBe(opened + 2);
    server.last.open();
    server.last.deliver(welcome(10n));
    expect(client.state).toBe("live");
    server.last.closeFromServer(1006);
    clock.advance(99);
    expect(server.sockets.length).toBe(opened + 3);
  });

  it("never waits longer than MAX_BACKOFF_MS between attempts", async () => {
    await goLive(10n);
    for (let i = 0; i < 12; i++) {
      const before = server.sockets.length;
      server.last.closeFromServer(1006);
      clock.advance(MAX_BACKOFF_MS);
      expect(server.sockets.length).toBe(before + 1);
    }
  });

  it("reconnects at once on 1012 (service restart), but not twice within a second", async () => {
    await goLive(10n);
    server.last.closeFromServer(CloseCode.SERVICE_RESTART);
    expect(client.state).toBe("reconnecting");
    clock.advance(0);
    expect(server.sockets.length).toBe(2);
    server.last.closeFromServer(CloseCode.SERVICE_RESTART);
    clock.advance(0);
    expect(server.sockets.length).toBe(2);
  });

  it("treats a slow-consumer close (4001) as a resync and resumes from its stream's seq", async () => {
    await goLive(10n);
    server.last.closeFromServer(CloseCode.SLOW_CONSUMER);
    expect(client.state).toBe("resyncing");
    clock.advance(0);
    server.last.open();
    server.last.deliver(welcome(12n));
    expect(lastWatch(server.last)).toMatchObject({ afterSeq: 10n, afterEpoch: 1n });
  });

  it("replaces a silent socket after the heartbeat timeout and pings while healthy", async () => {
    const socket = await goLive(10n);
    clock.advance(APP_PING_INTERVAL_MS);
    expect(socket.sentCases()).toEqual(["hello", "watch", "ping"]);
    clock.advance(SILENT_SOCKET_TIMEOUT_MS);
    expect(socket.closedByClient?.code).toBe(CloseCode.HEARTBEAT_TIMEOUT);
    expect(client.state).toBe("reconnecting");
  });

  it("gives up on a connection that yields no Welcome in time", () => {
    client.start();
    server.last.open();
    clock.advance(CONNECT_TIMEOUT_MS);
    expect(server.sockets[0]?.closedByClient).toBeDefined();
    expect(client.state).toBe("reconnecting");
  });

  it("draws placements optimistically, splits them by max_pixels_per_place, and settles on Ack + batch", async () => {
    const socket = await goLive(10n);
    const result = client.place([{ x: 0, y: 0, color: 1 }, { x: 1, y: 0, color: 2 }, { x: 2, y: 0, color: 3 }, { x: 3, y: 0, color: 4 }]);
    expect(result).toEqual({ ok: true, placements: [{ clientSeq: 1, pixels: 3 }, { clientSeq: 2, pixels: 1 }] });
    expect(socket.sentCases()).toEqual(["hello", "watch", "place", "place"]);
    expect(client.canvas.colorAt(3, 0)).toBe(4);
    socket.deliver(ack(1, 11n));
    expect(events.ack).toEqual([{ clientSeq: 1, seq: 11n, pixels: 3 }]);
    expect(client.canvas.isPending(1)).toBe(true);
    socket.deliver(batch(11n, [[0, 0, 1], [1, 0, 2], [2, 0, 3]]));
    expect(client.canvas.isPending(1)).toBe(false);
    expect(client.canvas.colorAt(0, 0)).toBe(1);
  });

  it("applies batches whose pixels come in PixelBatch.columns (protocol 4) as it applies `pixels`, and emits them with `pixels`", async () => {
    const socket = await goLive(10n);
    const columns = (seq: bigint, x: number[], y: number[], color: number[]) =>
      create(ServerFrameSchema, { frame: { case: "batch", value: create(PixelBatchSchema, { seq, epoch: 1n, canvasId: "default", columns: { x, y, color } }) } });
    socket.deliver(batches(columns(11n, [1, 2], [1, 3], [0xff0000, 0x00ff00]), batch(12n, [[3, 3, 0x0000ff]])));
    expect(client.canvas.colorAt(1, 1)).toBe(0xff0000);
    expect(client.canvas.colorAt(2, 3)).toBe(0x00ff00);
    expect(client.canvas.colorAt(3, 3)).toBe(0x0000ff);
    const emitted = events.batch as { batch: { seq: bigint; columns?: unknown; pixels: { x: number; y: number; color: number }[] } }[];
    expect(emitted.map((e) => [e.batch.seq, e.batch.columns, e.batch.pixels.map((p) => [p.x, p.y, p.color])])).toEqual([
      [11n, undefined, [[1, 1, 0xff0000], [2, 3, 0x00ff00]]],
      [12n, undefined, [[3, 3, 0x0000ff]]],
    ]);
    expect(events.protocolError).toEqual([]);
  });

  it("settles placements acked in ServerFrame.acks (protocol 3), read after the batch the frame carries", async () => {
    const socket = await goLive(10n);
    client.place([{ x: 0, y: 0, color: 1 }]);
    client.place([{ x: 1, y: 0, color: 2 }]);
    const carrying = batch(11n, [[0, 0, 1], [1, 0, 2]]);
    carrying.acks = [create(AckSchema, { clientSeq: 1, seq: 11n }), create(AckSchema, { clientSeq: 2, seq: 11n })];
    socket.deliver(carrying);
    expect(events.ack).toEqual([{ clientSeq: 1, seq: 11n, pixels: 1 }, { clientSeq: 2, seq: 11n, pixels: 1 }]);
    expect(client.canvas.isPending(1)).toBe(false);
    expect(client.canvas.isPending(2)).toBe(false);
    expect(client.canvas.colorAt(1, 0)).toBe(2);
    // A frame holding only acks (no `frame` set).
    client.place([{ x: 2, y: 0, color: 3 }]);
    socket.deliver(create(ServerFrameSchema, { acks: [create(AckSchema, { clientSeq: 3, seq: 12n })] }));
    expect(events.ack?.at(-1)).toEqual({ clientSeq: 3, seq: 12n, pixels: 1 });
    expect(events.protocolError).toEqual([]);
  });

  it("rolls a placement back on Error and reports the ErrorCode", async () => {
    const socket = await goLive(10n);
    client.place([{ x: 2, y: 2, color: 0xff0000 }]);
    socket.deliver(create(ServerFrameSchema, { frame: { case: "error", value: create(ErrorSchema, { code: ErrorCode.RATE_LIMITED, message: "too fast", clientSeq: 1 }) } }));
    expect(client.canvas.colorAt(2, 2)).toBe(0);
    expect(events.rollback).toEqual([{ clientSeq: 1, pixels: 1, reason: "refused" }]);
    expect(events.error).toEqual([{ code: ErrorCode.RATE_LIMITED, message: "too fast", clientSeq: 1, pixels: 1, retryAfterMs: 0 }]);
  });

  it("refuses placements visibly while not live and draws nothing", async () => {
    await goLive(10n);
    server.last.closeFromServer(1006);
    expect(client.place([{ x: 0, y: 0, color: 5 }])).toEqual({ ok: false, reason: "not-live", state: "reconnecting" });
    expect(client.canvas.colorAt(0, 0)).toBe(0);
    expect(client.canvas.pendingCount).toBe(0);
  });

  it("refuses invalid pixels locally", async () => {
    await goLive(10n);
    expect(client.place([{ x: W, y: 0, color: 5 }])).toMatchObject({ ok: false, reason: "invalid" });
    expect(client.place([{ x: 0, y: 0, color: 0x1000000 }])).toMatchObject({ ok: false, reason: "invalid" });
    expect(client.place([])).toMatchObject({ ok: false, reason: "invalid" });
  });

  it("rolls back unconfirmed placements when the connection drops, keeping acknowledged ones", async () => {
    const socket = await goLive(10n);
    client.place([{ x: 0, y: 0, color: 7 }]);
    client.place([{ x: 1, y: 0, color: 8 }]);
    socket.deliver(ack(1, 11n));
    socket.closeFromServer(1006);
    expect(events.rollback).toEqual([{ clientSeq: 2, pixels: 1, reason: "connection-lost" }]);
    expect(client.canvas.colorAt(0, 0)).toBe(7);
    expect(client.canvas.colorAt(1, 0)).toBe(0);
  });

  it("reports undecodable frames without leaving live", async () => {
    const socket = await goLive(10n);
    socket.deliverRaw(new Uint8Array([0xff, 0xff, 0xff]));
    socket.deliverRaw("text");
    expect(events.protocolError?.length).toBe(2);
    expect(client.state).toBe("live");
  });

  it("sends SetName when live and uses the new name in later Hellos", async () => {
    const socket = await goLive(10n);
    client.setName("zoe");
    expect(socket.sentCases()).toEqual(["hello", "watch", "setName"]);
    socket.closeFromServer(1006);
    clock.advance(MAX_BACKOFF_MS);
    server.last.open();
    expect(helloOf(server.last).name).toBe("zoe");
  });

  it("stays closed after close(): no reconnect, and callbacks of the old socket are ignored", async () => {
    const socket = await goLive(10n);
    client.close();
    expect(client.state).toBe("closed");
    socket.closeFromServer(1006);
    clock.advance(10 * MAX_BACKOFF_MS);
    expect(server.sockets.length).toBe(1);
    expect(states.at(-1)).toBe("closed");
  });
});
