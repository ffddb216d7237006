import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClientFrameSchema, CloseCode, ErrorCode, type ClientFrame } from "../../gen/pixel/v1/realtime_pb.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import type { Connection } from "./session/connection.js";
import { FakeCanvasService } from "./test-support/fake-canvas.js";
import { MAX_MALFORMED_FRAMES } from "./session/abuse-guard.js";
import type { Gateway } from "./gateway.js";
import type { GatewayTuning } from "./gateway-tuning.js";
import { batchSeqsOf, FakeSocket, startTestGateway } from "./test-support/test-helpers.js";

const gateways: Gateway[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.shutdown(0);
});

function setup(tuning: Partial<GatewayTuning> = {}, config: { pixelsPerSecond?: number; pixelBurst?: number } = {}) {
  const bus = new MemoryPixelBus();
  const canvas = new FakeCanvasService(bus, 8, 8, ["default", "other"]);
  const gateway = startTestGateway(bus, canvas, tuning, config);
  gateways.push(gateway);
  const connect = () => {
    const socket = new FakeSocket();
    const conn = gateway.open(socket);
    conn.identity = { userId: "u_test", ipKey: "192.0.2.1" };
    return { socket, conn, send: (frame: ClientFrame["frame"]) => conn.receive(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })), true) };
  };
  return { bus, canvas, gateway, connect };
}

const hello = (canvasId = "", lastSeq = 0n, lastEpoch = 0n, name = "ann"): ClientFrame["frame"] => ({ case: "hello", value: { canvasId, name, lastSeq, lastEpoch, protocol: 2 } as never });
const place = (clientSeq: number, pixels: { x: number; y: number; color: number }[]): ClientFrame["frame"] => ({ case: "place", value: { clientSeq, pixels } as never });

const watchAll: ClientFrame["frame"] = { case: "watch", value: { tiles: [{ tx: 0, ty: 0 }], afterSeq: 0n, afterEpoch: 0n } as never };

/** Waits for the Welcome, then watches the canvas's one tile and waits for Watching. */
async function joined(c: { socket: FakeSocket; conn: Connection; send: (frame: ClientFrame["frame"]) => void }) {
  await vi.waitFor(() => expect(c.conn.state.kind).toBe("live"));
  c.send(watchAll);
  await vi.waitFor(() => expect(c.socket.frames().some((f) => f.case === "watching")).toBe(true));
}

describe("Gateway connections (no sockets)", () => {
  it("welcomes a Hello, acks a Place after it is stored, and delivers the batch to everyone in seq order", async () => {
    const { connect, canvas } = setup();
    const a = connect();
    const b = connect();
    a.send(hello());
    b.send(hello("default", 0n, 0n, "bob"));
    await joined(a);
    await joined(b);
    expect(a.socket.frames()[0]).toMatchObject({ case: "welcome", value: { canvasId: "default", width: 8, height: 8, seq: 0n, epoch: 1n, maxPixelsPerPlace: 1000 } });
    a.send(place(1, [{ x: 1, y: 1, color: 0xff0000 }]));
    a.send(place(2, [{ x: 2, y: 1, color: 0x00ff00 }]));
    await vi.waitFor(() => expect(batchSeqsOf(b.socket.frames())).toHaveLength(2));
    const acks = a.socket.frames().flatMap((f) => (f.case === "ack" ? [f.value] : []));
    expect(acks).toMatchObject([{ clientSeq: 1, seq: 1n }, { clientSeq: 2, seq: 2n }]);
    expect(batchSeqsOf(b.socket.frames())).toEqual([1n, 2n]);
    expect(canvas.setPixelsCalls).toBe(2);
  });

  it("sends the batches stored in one turn to every socket as one coalesced frame", async () => {
    const { connect, canvas } = setup();
    const a = connect();
    const b = connect();
    a.send(hello());
    b.send(hello());
    await joined(a);
    await joined(b);
    for (let i = 1; i <= 3; i++) void canvas.setPixels("default", [{ x: i, y: 2, color: i }], "");
    await vi.waitFor(() => expect(batchSeqsOf(b.socket.frames())).toEqual([1n, 2n, 3n]));
    for (const c of [a, b]) expect(c.socket.frames().filter((f) => f.case === "batch" || f.case === "batches").map((f) => f.case)).toEqual(["batches"]);
    expect(a.socket.sent.find((f) => f[0] === 0x3a)).toBe(b.socket.sent.find((f) => f[0] === 0x3a));
  });

  it("serves frames pipelined right after a Hello once the Welcome is out", async () => {
    const { connect } = setup();
    const a = connect();
    a.send(hello());
    a.send(place(9, [{ x: 0, y: 0, color: 1 }]));
    await vi.waitFor(() => expect(a.socket.frames().some((f) => f.case === "ack")).toBe(true));
    expect(a.socket.frames()[0]!.case).toBe("welcome");
    expect(a.socket.errors()).toEqual([]);
  });

  it("answers malformed input with MALFORMED_FRAME and closes with 1008 on repeated abuse", () => {
    const { connect } = setup();
    const a = connect();
    a.conn.receive(Buffer.from("not protobuf"), false);
    a.conn.receive(Buffer.from([0xff, 0xff, 0xff]), true);
    a.conn.receive(new Uint8Array(0), true);
    expect(a.socket.errors().map((e) => e.code)).toEqual([ErrorCode.MALFORMED_FRAME, ErrorCode.MALFORMED_FRAME, ErrorCode.MALFORMED_FRAME]);
    expect(a.socket.closedWith).toBeUndefined();
    for (let i = 3; i < MAX_MALFORMED_FRAMES; i++) a.conn.receive(Buffer.from([0xff]), true);
    expect(a.socket.closedWith?.code).toBe(CloseCode.POLICY_VIOLATION);
  });

  it("stores nothing a client sends after the frame that made the gateway close it: a valid Place right behind the 16th malformed frame is neither stored nor acked", async () => {
    const { connect, canvas } = setup();
    const a = connect();
    a.send(hello());
    await joined(a);
    for (let i = 0; i < MAX_MALFORMED_FRAMES; i++) a.conn.receive(Buffer.from([0xff]), true);
    expect(a.conn.state).toMatchObject({ kind: "closing", code: CloseCode.POLICY_VIOLATION });
    a.send(place(7, [{ x: 0, y: 0, color: 1 }]));
    a.send(hello());
    await new Promise((r) => setTimeout(r, 50));
    expect(canvas.setPixelsCalls).toBe(0);
    expect(a.socket.frames().filter((f) => f.case === "ack" || f.case === "welcome")).toHaveLength(1);
    expect(a.socket.errors()).toHaveLength(MAX_MALFORMED_FRAMES);
  });

  it("refuses a Place before Hello, an out-of-range pixel, and an unknown canvas precisely", async () => {
    const { connect, canvas } = setup();
    const a = connect();
    a.send(place(1, [{ x: 0, y: 0, color: 1 }]));
    expect(a.socket.errors()).toMatchObject([{ code: ErrorCode.NOT_JOINED, clientSeq: 1 }]);
    a.send(hello("nope"));
    await vi.waitFor(() => expect(a.socket.errors()).toHaveLength(2));
    expect(a.socket.errors()[1]).toMatchObject({ code: ErrorCode.NOT_FOUND, message: expect.stringContaining("nope") });
    a.send(hello());
    await joined(a);
    a.send(place(2, [{ x: 0, y: 0, color: 1 }, { x: 8, y: 3, color: 1 }]));
    expect(a.socket.errors()[2]).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, clientSeq: 2, message: expect.stringContaining("pixel 1 (x=8, y=3)") });
    a.send(place(3, [{ x: 0, y: 0, color: 0x1000000 }]));
    expect(a.socket.errors()[3]).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, clientSeq: 3 });
    expect(canvas.setPixelsCalls).toBe(0);
  });

  it("refuses an oversized Place with INVALID_ARGUMENT and a truncated one as malformed", async () => {
    const { connect, canvas } = setup();
    const a = connect();
    a.send(hello());
    await joined(a);
    a.send(place(5, Array.from({ length: 1001 }, (_, i) => ({ x: i % 8, y: 0, color: 1 }))));
    expect(a.socket.errors()[0]).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, clientSeq: 5, message: expect.stringContaining("1001 pixels") });
    const bytes = toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: place(6, [{ x: 1, y: 1, color: 1 }]) }));
    const truncated = Uint8Array.from(bytes.subarray(0, bytes.length - 1));
    truncated[1] = truncated.length - 2;
    a.conn.receive(truncated, true);
    expect(a.socket.errors()[1]).toMatchObject({ code: ErrorCode.MALFORMED_FRAME });
    expect(canvas.setPixelsCalls).toBe(0);
  });

  it("refuses the frames of issue 11: a field-0 tag in a pixel as malformed, x = 2^32 + 3 as INVALID_ARGUMENT on every path", async () => {
    const { connect, canvas } = setup();
    const a = connect();
    a.send(hello());
    await joined(a);
    // Pixel{x: 5, y: 2, color: 7} with x's tag flipped to field 0: the scanner skipped it and stored x = 0.
    a.conn.receive(Uint8Array.from([0x12, 0x0a, 0x08, 0x01, 0x12, 0x06, 0x00, 0x05, 0x10, 0x02, 0x18, 0x07]), true);
    // Place{client_seq: 2, Pixel{x: 2^32 + 3, y: 1, color: 0xff}} alone, then with an unknown field after it
    // (which took the generic decoder and stored x = 3).
    const wide = [0x12, 0x0f, 0x08, 0x02, 0x12, 0x0b, 0x08, 0x83, 0x80, 0x80, 0x80, 0x10, 0x10, 0x01, 0x18, 0xff, 0x01];
    a.conn.receive(Uint8Array.from(wide), true);
    a.conn.receive(Uint8Array.from([...wide.slice(0, 3), 0x03, ...wide.slice(4), 0x78, 0x01]), true);
    expect(a.socket.errors()).toMatchObject([
      { code: ErrorCode.MALFORMED_FRAME },
      { code: ErrorCode.INVALID_ARGUMENT, clientSeq: 2, message: "pixel 0 has a value above uint32" },
      { code: ErrorCode.INVALID_ARGUMENT, clientSeq: 3, message: "pixel 0 has a value above uint32" },
    ]);
    a.send(place(4, [{ x: 7, y: 7, color: 0x0000ff }]));
    await vi.waitFor(() => expect(a.socket.frames().some((f) => f.case === "ack")).toBe(true));
    const stored = (await canvas.getCanvas("default")).pixels;
    const painted = [...stored].flatMap((v, i) => (v !== 0 ? [i] : []));
    expect(painted).toEqual([(7 * 8 + 7) * 3 + 2]);
  });

  it("rate-limits repeated Hellos, which each cost a snapshot", async () => {
    const { connect } = setup();
    const a = connect();
    for (let i = 0; i < 6; i++) {
      a.send(hello());
      await vi.waitFor(() => expect(a.conn.state.kind).not.toBe("joining"));
    }
    expect(a.socket.frames().filter((f) => f.case === "welcome")).toHaveLength(5);
    expect(a.socket.errors()).toMatchObject([{ code: ErrorCode.RATE_LIMITED }]);
  });

  it("rate-limits per connection and stores nothing of a refused Place", async () => {
    const { connect, canvas } = setup({}, { pixelsPerSecond: 1, pixelBurst: 3 });
    const a = connect();
    a.send(hello());
    await joined(a);
    a.send(place(1, [{ x: 0, y: 0, color: 1 }, { x: 1, y: 0, color: 1 }]));
    a.send(place(2, [{ x: 2, y: 0, color: 1 }, { x: 3, y: 0, color: 1 }]));
    expect(a.socket.errors()).toMatchObject([{ code: ErrorCode.RATE_LIMITED, clientSeq: 2 }]);
    await vi.waitFor(() => expect(a.socket.frames().some((f) => f.case === "ack")).toBe(true));
    expect(canvas.setPixelsCalls).toBe(1);
    const snap = await canvas.getCanvas("default");
    expect([...snap.pixels.subarray(6, 12)]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("refuses with OVERLOADED when the write queue is full", async () => {
    const { connect } = setup({ writeQueueMaxPixels: 2 });
    const a = connect();
    a.send(hello());
    await joined(a);
    a.send(place(1, [{ x: 0, y: 0, color: 1 }])); // goes out at once
    a.send(place(2, [{ x: 1, y: 0, color: 1 }, { x: 2, y: 0, color: 1 }])); // queued: 2
    a.send(place(3, [{ x: 3, y: 0, color: 1 }])); // over the bound
    expect(a.socket.errors()).toMatchObject([{ code: ErrorCode.OVERLOADED, clientSeq: 3 }]);
    await vi.waitFor(() => expect(a.socket.frames().filter((f) => f.case === "ack")).toHaveLength(2));
  });

  it("answers UNAVAILABLE with the client_seq when the canvas service stays down past the deadline", async () => {
    const { connect, canvas } = setup({ writeDeadlineMs: 100, writeBackoffBaseMs: 5 });
    const a = connect();
    a.send(hello());
    await joined(a);
    canvas.failWith = Code.Unavailable;
    a.send(place(4, [{ x: 0, y: 0, color: 1 }]));
    await vi.waitFor(() => expect(a.socket.errors()).toMatchObject([{ code: ErrorCode.UNAVAILABLE, clientSeq: 4 }]));
    expect(canvas.setPixelsCalls).toBeGreaterThan(1);
    expect(a.socket.frames().some((f) => f.case === "ack")).toBe(false);
  });

  it("resumes a reconnecting client's tiles with exactly the batches it missed, before Watching", async () => {
    const { connect } = setup();
    const a = connect();
    a.send(hello());
    await joined(a);
    for (let i = 1; i <= 5; i++) {
      // One at a time, so each Place becomes its own batch.
      a.send(place(i, [{ x: i, y: 0, color: i }]));
      await vi.waitFor(() => expect(batchSeqsOf(a.socket.frames())).toHaveLength(i));
    }
    const b = connect();
    b.send(hello());
    await vi.waitFor(() => expect(b.conn.state.kind).toBe("live"));
    b.send({ case: "watch", value: { tiles: [{ tx: 0, ty: 0 }], afterSeq: 2n, afterEpoch: 1n } as never });
    await vi.waitFor(() => expect(b.socket.frames().some((f) => f.case === "watching")).toBe(true));
    const frames = b.socket.frames().filter((f) => f.case !== "presence");
    expect(frames[0]).toMatchObject({ case: "welcome", value: { resumed: false, seq: 5n } });
    // The missed batches come coalesced into one `batches` frame, then Watching says they did.
    expect(frames[1]?.case).toBe("batches");
    expect(batchSeqsOf(frames.slice(1))).toEqual([3n, 4n, 5n]);
    expect(frames[2]).toMatchObject({ case: "watching", value: { seq: 5n, epoch: 1n, replayed: true } });
  });

  it("welcomes a new client of a room whose history read is held at once, and a reconnecting one once the ring is seeded, so it resumes", async () => {
    const { connect, canvas } = setup();
    for (let i = 1; i <= 5; i++) await canvas.setPixels("default", [{ x: i, y: 0, color: i }], "");
    const release = canvas.holdHistory();
    const fresh = connect();
    fresh.send(hello());
    await vi.waitFor(() => expect(fresh.conn.state.kind).toBe("live"));
    const back = connect();
    back.send(hello("default", 2n, 1n));
    back.send({ case: "watch", value: { tiles: [{ tx: 0, ty: 0 }], afterSeq: 2n, afterEpoch: 1n } as never });
    await new Promise((r) => setTimeout(r, 20));
    expect(back.socket.frames().filter((f) => f.case === "welcome")).toEqual([]);
    release();
    await vi.waitFor(() => expect(back.socket.frames().some((f) => f.case === "watching")).toBe(true));
    const frames = back.socket.frames().filter((f) => f.case !== "presence");
    expect(frames[0]).toMatchObject({ case: "welcome", value: { seq: 5n } });
    expect(batchSeqsOf(frames.slice(1))).toEqual([3n, 4n, 5n]);
    expect(frames.at(-1)).toMatchObject({ case: "watching", value: { seq: 5n, replayed: true } });
  });

  it("stops feeding a slow socket, then resyncs it with a fresh Welcome once it drains", async () => {
    const { connect } = setup({ slowConsumerBytes: 100, slowConsumerDrainedBytes: 50, slowConsumerCheckMs: 10 });
    const a = connect();
    const slow = connect();
    a.send(hello());
    slow.send(hello());
    await joined(a);
    await joined(slow);
    slow.socket.queuedBytes = 10_000;
    a.send(place(1, [{ x: 0, y: 0, color: 1 }]));
    await vi.waitFor(() => expect(batchSeqsOf(a.socket.frames())).toHaveLength(1));
    await vi.waitFor(() => expect(slow.conn.state.kind).toBe("behind"));
    a.send(place(2, [{ x: 1, y: 0, color: 2 }]));
    await vi.waitFor(() => expect(batchSeqsOf(a.socket.frames())).toHaveLength(2));
    expect(batchSeqsOf(slow.socket.frames())).toHaveLength(0);
    slow.socket.queuedBytes = 0;
    await vi.waitFor(() => expect(slow.conn.state.kind).toBe("live"));
    const welcomes = slow.socket.frames().filter((f) => f.case === "welcome");
    expect(welcomes).toHaveLength(2);
    expect(welcomes[1]).toMatchObject({ value: { seq: 2n, resumed: false } });
  });

  it("closes a slow socket with 4001 when it stays behind too long", async () => {
    const { connect } = setup({ slowConsumerBytes: 100, slowConsumerDrainedBytes: 50, slowConsumerCheckMs: 10, slowConsumerTimeoutMs: 50 });
    const a = connect();
    a.send(hello());
    await joined(a);
    a.socket.queuedBytes = 10_000;
    a.send(place(1, [{ x: 0, y: 0, color: 1 }]));
    await vi.waitFor(() => expect(a.socket.closedWith?.code).toBe(CloseCode.SLOW_CONSUMER));
  });

  it("closes a socket that sends no Hello in time with 4002", async () => {
    const { connect } = setup({ helloTimeoutMs: 30 });
    const a = connect();
    await vi.waitFor(() => expect(a.socket.closedWith?.code).toBe(CloseCode.HELLO_TIMEOUT));
  });

  it("broadcasts presence with the online count and names", async () => {
    const { connect } = setup({ presenceIntervalMs: 20 });
    const a = connect();
    const b = connect();
    a.send(hello("", 0n, 0n, "ann"));
    b.send(hello("", 0n, 0n, ""));
    await joined(a);
    await joined(b);
    await vi.waitFor(() => expect(a.socket.frames().filter((f) => f.case === "presence").at(-1)).toMatchObject({ value: { online: 2, names: ["ann"] } }));
  });

  it("counts a joiner and a leaver in presence at once, without waiting for the periodic refresh", async () => {
    const { connect } = setup({ presenceIntervalMs: 60_000, presenceDebounceMs: 10, presenceMinIntervalMs: 10 });
    const a = connect();
    a.send(hello("", 0n, 0n, "ann"));
    await joined(a);
    const b = connect();
    b.send(hello("", 0n, 0n, "bob"));
    await joined(b);
    const lastPresence = () => a.socket.frames().filter((f) => f.case === "presence").at(-1);
    await vi.waitFor(() => expect(lastPresence()).toMatchObject({ value: { online: 2, names: ["ann", "bob"] } }));
    b.conn.closed();
    await vi.waitFor(() => expect(lastPresence()).toMatchObject({ value: { online: 1, names: ["ann"] } }));
  });

  it("throttles join-triggered presence broadcasts during a storm of joins to one per interval", async () => {
    const { connect } = setup({ presenceIntervalMs: 60_000, presenceDebounceMs: 10, presenceMinIntervalMs: 60_000 });
    const a = connect();
    a.send(hello("", 0n, 0n, "ann"));
    await joined(a);
    const presences = () => a.socket.frames().filter((f) => f.case === "presence");
    await vi.waitFor(() => expect(presences().at(-1)).toMatchObject({ value: { online: 1 } }));
    const before = presences().length;
    for (let i = 0; i < 5; i++) {
      const c = connect();
      c.send(hello("", 0n, 0n, `p${i}`));
      await joined(c);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(presences().length).toBe(before);
  });

  it("on shutdown finishes in-flight writes, acks them, then closes with 1012", async () => {
    const { connect, gateway, canvas } = setup();
    const a = connect();
    a.send(hello());
    await joined(a);
    const release = canvas.holdWrites();
    a.send(place(1, [{ x: 0, y: 0, color: 1 }]));
    a.send(place(2, [{ x: 1, y: 0, color: 1 }]));
    await vi.waitFor(() => expect(canvas.heldWrites).toBeGreaterThan(0));
    const acks = () => a.socket.frames().filter((f) => f.case === "ack");
    let drained = false;
    const shutdown = gateway.shutdown(60_000).then(() => (drained = true));
    // Draining began with the write held upstream: nothing is acked, and shutdown waits for it
    // (the write cannot finish while held, so the wait below only has to outlast a short writeWaitMs).
    expect(gateway.isDraining()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(canvas.heldWrites).toBeGreaterThan(0);
    expect(acks()).toHaveLength(0);
    expect(drained).toBe(false);
    expect(a.socket.closedWith).toBeUndefined();
    release();
    await shutdown;
    // Acked while the socket was still open (a connection sends nothing once its socket closes), then closed.
    expect(acks().map((f) => f.value)).toMatchObject([{ clientSeq: 1 }, { clientSeq: 2 }]);
    expect(a.socket.closedWith?.code).toBe(CloseCode.SERVICE_RESTART);
    expect(gateway.isReady()).toBe(false);
  });
});
