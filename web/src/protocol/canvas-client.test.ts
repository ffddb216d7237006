import { create } from "@bufbuild/protobuf";
import { beforeEach, describe, expect, it } from "vitest";
import { PixelBatchSchema, PixelSchema } from "../../../gen/pixel/v1/canvas_pb.js";
import { AckSchema, BatchesSchema, CloseCode, ErrorCode, ErrorSchema, PresenceSchema, ServerFrameSchema, WelcomeSchema, type ServerFrame } from "../../../gen/pixel/v1/realtime_pb.js";
import { CanvasClient, CLIENT_RESYNC_CLOSE, type CanvasClientEvents, type ConnectionState } from "./canvas-client.js";
import { FakeSocketServer, type FakeSocket } from "./test-support/fake-socket.js";
import { ManualClock } from "./test-support/manual-clock.js";
import { CONNECT_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS, MAX_BACKOFF_MS } from "./timing.js";

const W = 4;
const H = 4;

function welcome(seq: bigint, opts: { resumed?: boolean; epoch?: bigint; fill?: number } = {}): ServerFrame {
  const pixels = opts.resumed ? new Uint8Array(0) : new Uint8Array(W * H * 3).fill(opts.fill ?? 0);
  return create(ServerFrameSchema, {
    frame: { case: "welcome", value: create(WelcomeSchema, { canvasId: "default", width: W, height: H, seq, epoch: opts.epoch ?? 1n, pixels, resumed: opts.resumed ?? false, maxPixelsPerPlace: 3, pixelsPerSecond: 100, connectionId: "c-1" }) },
  });
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

function helloOf(socket: FakeSocket, index = 0): { lastSeq: bigint; lastEpoch: bigint; name: string } {
  const f = socket.sent[index]?.frame;
  if (f?.case !== "hello") throw new Error(`frame ${index} is ${f?.case}, not hello`);
  return f.value;
}

describe("CanvasClient", () => {
  let clock: ManualClock;
  let server: FakeSocketServer;
  let client: CanvasClient;
  let states: ConnectionState[];
  let events: Partial<{ [K in keyof CanvasClientEvents]: Array<CanvasClientEvents[K]> }>;

  function record<K extends keyof CanvasClientEvents>(name: K): void {
    const list: Array<CanvasClientEvents[K]> = [];
    (events as Record<string, unknown>)[name] = list;
    client.on(name, (e) => list.push(e));
  }

  function goLive(seq = 10n): FakeSocket {
    client.start();
    const socket = server.last;
    socket.open();
    socket.deliver(welcome(seq));
    return socket;
  }

  beforeEach(() => {
    clock = new ManualClock();
    server = new FakeSocketServer();
    client = new CanvasClient({ url: "ws://test/ws", socketFactory: server.factory, name: "ann", clock, random: () => 0.999 });
    states = [];
    events = {};
    client.on("state", (e) => states.push(e.state));
    for (const name of ["canvas", "presence", "error", "ack", "rollback", "batch", "protocolError"] as const) record(name);
  });

  it("connects, sends Hello with the name and a fresh last_seq, and goes live on Welcome", () => {
    expect(client.state).toBe("idle");
    const socket = goLive(10n);
    expect(socket.url).toBe("ws://test/ws");
    expect(helloOf(socket)).toMatchObject({ name: "ann", lastSeq: 0n, lastEpoch: 0n });
    expect(states).toEqual(["connecting", "live"]);
    expect(client.canvas.seq).toBe(10n);
    expect(client.limits).toEqual({ maxPixelsPerPlace: 3, pixelsPerSecond: 100 });
    expect(events.canvas).toContainEqual({ full: true });
  });

  it("applies batches in order, ignores duplicates, and emits presence", () => {
    const socket = goLive(10n);
    socket.deliver(batch(11n, [[1, 1, 0xff0000]]));
    socket.deliver(batch(11n, [[1, 1, 0x00ff00]]));
    socket.deliver(create(ServerFrameSchema, { frame: { case: "presence", value: create(PresenceSchema, { online: 2, names: ["ann", "bob"] }) } }));
    expect(client.canvas.colorAt(1, 1)).toBe(0xff0000);
    expect(events.batch?.length).toBe(1);
    expect(events.presence).toEqual([{ online: 2, names: ["ann", "bob"] }]);
    expect(client.state).toBe("live");
  });

  it("applies a coalesced batches frame like its batches in a row: in order, duplicates ignored, one batch event each", () => {
    const socket = goLive(10n);
    socket.deliver(batches(batch(10n, [[0, 0, 0x0000ff]]), batch(11n, [[1, 1, 0xff0000]]), batch(12n, [[1, 1, 0x00ff00], [2, 2, 0x000001]]), batch(13n, [[3, 3, 0x123456]])));
    expect(client.canvas.seq).toBe(13n);
    expect(client.canvas.colorAt(0, 0)).toBe(0);
    expect(client.canvas.colorAt(1, 1)).toBe(0x00ff00);
    expect(client.canvas.colorAt(2, 2)).toBe(0x000001);
    expect(client.canvas.colorAt(3, 3)).toBe(0x123456);
    expect(events.batch?.map((e) => e.batch.seq)).toEqual([11n, 12n, 13n]);
    socket.deliver(batches(batch(13n, [[3, 3, 0]]), batch(14n, [[0, 3, 0xabcdef]])));
    expect(client.canvas.colorAt(3, 3)).toBe(0x123456);
    expect(client.canvas.seq).toBe(14n);
    expect(client.state).toBe("live");
  });

  it("resyncs on a gap inside a batches frame, keeping what came before it and ignoring the rest", () => {
    const first = goLive(10n);
    first.deliver(batches(batch(11n, [[0, 0, 0x111111]]), batch(13n, [[0, 0, 0x333333]]), batch(14n, [[1, 0, 0x444444]])));
    expect(client.state).toBe("resyncing");
    expect(client.canvas.seq).toBe(11n);
    expect(client.canvas.colorAt(1, 0)).toBe(0);
    expect(events.batch?.map((e) => e.batch.seq)).toEqual([11n]);
    clock.advance(0);
    server.last.open();
    expect(helloOf(server.last)).toMatchObject({ lastSeq: 11n, lastEpoch: 1n });
  });

  it("resyncs on a seq gap without a backoff: a new socket whose Hello carries last_seq, then resumes", () => {
    const first = goLive(10n);
    first.deliver(batch(11n, [[0, 0, 0x111111]]));
    first.deliver(batch(13n, [[0, 0, 0x333333]]));
    expect(client.state).toBe("resyncing");
    expect(first.closedByClient?.code).toBe(CLIENT_RESYNC_CLOSE);
    clock.advance(0);
    const second = server.last;
    expect(second).not.toBe(first);
    second.open();
    expect(helloOf(second)).toMatchObject({ lastSeq: 11n, lastEpoch: 1n });
    second.deliver(welcome(11n, { resumed: true }));
    second.deliver(batch(12n, [[0, 0, 0x222222]]));
    second.deliver(batch(13n, [[0, 0, 0x333333]]));
    expect(client.state).toBe("live");
    expect(client.canvas.seq).toBe(13n);
    expect(client.canvas.colorAt(0, 0)).toBe(0x333333);
    expect(states).toEqual(["connecting", "live", "resyncing", "live"]);
  });

  it("asks for a full snapshot when a batch of another epoch arrives", () => {
    const first = goLive(10n);
    first.deliver(batch(1n, [[0, 0, 1]], 2n));
    clock.advance(0);
    server.last.open();
    expect(helloOf(server.last)).toMatchObject({ lastSeq: 0n, lastEpoch: 0n });
  });

  it("asks for a full snapshot when a resumed Welcome does not fit its copy", () => {
    const first = goLive(10n);
    first.closeFromServer(1006);
    clock.advance(MAX_BACKOFF_MS);
    server.last.open();
    server.last.deliver(welcome(12n, { resumed: true }));
    expect(events.protocolError?.[0]?.message).toMatch(/does not fit/);
    clock.advance(MAX_BACKOFF_MS);
    server.last.open();
    expect(helloOf(server.last)).toMatchObject({ lastSeq: 0n });
    server.last.deliver(welcome(12n, { fill: 0xff }));
    expect(client.state).toBe("live");
    expect(client.canvas.colorAt(3, 3)).toBe(0xffffff);
  });

  it("reconnects with growing full-jitter backoff after losses and resets it once live", () => {
    goLive(10n);
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
    expect(helloOf(server.last)).toMatchObject({ lastSeq: 10n, lastEpoch: 1n });
    server.last.deliver(welcome(10n, { resumed: true }));
    expect(client.state).toBe("live");
    server.last.closeFromServer(1006);
    clock.advance(99);
    expect(server.sockets.length).toBe(opened + 3);
  });

  it("never waits longer than MAX_BACKOFF_MS between attempts", () => {
    goLive(10n);
    for (let i = 0; i < 12; i++) {
      const before = server.sockets.length;
      server.last.closeFromServer(1006);
      clock.advance(MAX_BACKOFF_MS);
      expect(server.sockets.length).toBe(before + 1);
    }
  });

  it("reconnects at once on 1012 (service restart), but not twice within a second", () => {
    goLive(10n);
    server.last.closeFromServer(CloseCode.SERVICE_RESTART);
    expect(client.state).toBe("reconnecting");
    clock.advance(0);
    expect(server.sockets.length).toBe(2);
    server.last.closeFromServer(CloseCode.SERVICE_RESTART);
    clock.advance(0);
    expect(server.sockets.length).toBe(2);
  });

  it("treats a slow-consumer close (4001) as a resync and resumes from last_seq", () => {
    goLive(10n);
    server.last.closeFromServer(CloseCode.SLOW_CONSUMER);
    expect(client.state).toBe("resyncing");
    clock.advance(0);
    server.last.open();
    expect(helloOf(server.last)).toMatchObject({ lastSeq: 10n });
  });

  it("replaces a silent socket after the heartbeat timeout and pings while healthy", () => {
    const socket = goLive(10n);
    clock.advance(HEARTBEAT_INTERVAL_MS);
    expect(socket.sentCases()).toEqual(["hello", "ping"]);
    clock.advance(HEARTBEAT_TIMEOUT_MS);
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

  it("draws placements optimistically, splits them by max_pixels_per_place, and settles on Ack + batch", () => {
    const socket = goLive(10n);
    const result = client.place([{ x: 0, y: 0, color: 1 }, { x: 1, y: 0, color: 2 }, { x: 2, y: 0, color: 3 }, { x: 3, y: 0, color: 4 }]);
    expect(result).toEqual({ ok: true, placements: [{ clientSeq: 1, pixels: 3 }, { clientSeq: 2, pixels: 1 }] });
    expect(socket.sentCases()).toEqual(["hello", "place", "place"]);
    expect(client.canvas.colorAt(3, 0)).toBe(4);
    socket.deliver(ack(1, 11n));
    expect(events.ack).toEqual([{ clientSeq: 1, seq: 11n, pixels: 3 }]);
    expect(client.canvas.isPending(1)).toBe(true);
    socket.deliver(batch(11n, [[0, 0, 1], [1, 0, 2], [2, 0, 3]]));
    expect(client.canvas.isPending(1)).toBe(false);
    expect(client.canvas.colorAt(0, 0)).toBe(1);
  });

  it("rolls a placement back on Error and reports the ErrorCode", () => {
    const socket = goLive(10n);
    client.place([{ x: 2, y: 2, color: 0xff0000 }]);
    socket.deliver(create(ServerFrameSchema, { frame: { case: "error", value: create(ErrorSchema, { code: ErrorCode.RATE_LIMITED, message: "too fast", clientSeq: 1 }) } }));
    expect(client.canvas.colorAt(2, 2)).toBe(0);
    expect(events.rollback).toEqual([{ clientSeq: 1, pixels: 1, reason: "refused" }]);
    expect(events.error).toEqual([{ code: ErrorCode.RATE_LIMITED, message: "too fast", clientSeq: 1, pixels: 1, retryAfterMs: 0 }]);
  });

  it("refuses placements visibly while not live and draws nothing", () => {
    goLive(10n);
    server.last.closeFromServer(1006);
    expect(client.place([{ x: 0, y: 0, color: 5 }])).toEqual({ ok: false, reason: "not-live", state: "reconnecting" });
    expect(client.canvas.colorAt(0, 0)).toBe(0);
    expect(client.canvas.pendingCount).toBe(0);
  });

  it("refuses invalid pixels locally", () => {
    goLive(10n);
    expect(client.place([{ x: W, y: 0, color: 5 }])).toMatchObject({ ok: false, reason: "invalid" });
    expect(client.place([{ x: 0, y: 0, color: 0x1000000 }])).toMatchObject({ ok: false, reason: "invalid" });
    expect(client.place([])).toMatchObject({ ok: false, reason: "invalid" });
  });

  it("rolls back unconfirmed placements when the connection drops, keeping acknowledged ones", () => {
    const socket = goLive(10n);
    client.place([{ x: 0, y: 0, color: 7 }]);
    client.place([{ x: 1, y: 0, color: 8 }]);
    socket.deliver(ack(1, 11n));
    socket.closeFromServer(1006);
    expect(events.rollback).toEqual([{ clientSeq: 2, pixels: 1, reason: "connection-lost" }]);
    expect(client.canvas.colorAt(0, 0)).toBe(7);
    expect(client.canvas.colorAt(1, 0)).toBe(0);
  });

  it("reports undecodable frames without leaving live", () => {
    const socket = goLive(10n);
    socket.deliverRaw(new Uint8Array([0xff, 0xff, 0xff]));
    socket.deliverRaw("text");
    expect(events.protocolError?.length).toBe(2);
    expect(client.state).toBe("live");
  });

  it("sends SetName when live and uses the new name in later Hellos", () => {
    const socket = goLive(10n);
    client.setName("zoe");
    expect(socket.sentCases()).toEqual(["hello", "setName"]);
    socket.closeFromServer(1006);
    clock.advance(MAX_BACKOFF_MS);
    server.last.open();
    expect(helloOf(server.last).name).toBe("zoe");
  });

  it("stays closed after close(): no reconnect, and callbacks of the old socket are ignored", () => {
    const socket = goLive(10n);
    client.close();
    expect(client.state).toBe("closed");
    socket.closeFromServer(1006);
    clock.advance(10 * MAX_BACKOFF_MS);
    expect(server.sockets.length).toBe(1);
    expect(states.at(-1)).toBe("closed");
  });
});
