import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClientFrameSchema, CloseCode, ErrorCode, type ClientFrame } from "../../gen/pixel/v1/realtime_pb.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { FakeCanvasService } from "./test-support/fake-canvas.js";
import type { Gateway } from "./gateway.js";
import { batchSeqsOf, FakeSocket, startTestGateway } from "./test-support/test-helpers.js";

const gateways: Gateway[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.shutdown(0);
});

/** A gateway over a 600 x 300 canvas: level-0 tiles 0:0, 1:0, 2:0 in the first row and 0:1, 1:1, 2:1 in the second. */
function setup() {
  const bus = new MemoryPixelBus();
  const canvas = new FakeCanvasService(bus, 600, 300);
  const gateway = startTestGateway(bus, canvas, {});
  gateways.push(gateway);
  const connect = () => {
    const socket = new FakeSocket();
    const conn = gateway.open(socket);
    const send = (frame: ClientFrame["frame"]) => conn.receive(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })), true);
    return { socket, conn, send };
  };
  return { canvas, connect };
}

const hello = (protocol = 2): ClientFrame["frame"] => ({ case: "hello", value: { canvasId: "", name: "", lastSeq: 0n, lastEpoch: 0n, protocol } as never });
const watch = (...tiles: [number, number][]): ClientFrame["frame"] => ({ case: "watch", value: { tiles: tiles.map(([tx, ty]) => ({ tx, ty })), afterSeq: 0n, afterEpoch: 0n } as never });

/** Joins and watches `tiles`; resolves with Watching. */
async function watching(c: ReturnType<ReturnType<typeof setup>["connect"]>, ...tiles: [number, number][]) {
  const count = () => c.socket.frames().filter((f) => f.case === "watching").length;
  const before = count();
  if (c.conn.state.kind !== "live") {
    c.send(hello());
    await vi.waitFor(() => expect(c.conn.state.kind).toBe("live"));
  }
  c.send(watch(...tiles));
  await vi.waitFor(() => expect(count()).toBe(before + 1));
  return c.socket.frames().filter((f) => f.case === "watching").at(-1)!.value;
}

describe("Gateway watch sets (protocol 2)", () => {
  it("refuses a Hello of protocol 1 with UNSUPPORTED_PROTOCOL and closes with 4006 PROTOCOL_TOO_OLD", () => {
    const { connect } = setup();
    const old = connect();
    old.send(hello(0));
    expect(old.socket.errors()).toMatchObject([{ code: ErrorCode.UNSUPPORTED_PROTOCOL }]);
    expect(old.socket.closedWith).toMatchObject({ code: CloseCode.PROTOCOL_TOO_OLD, reason: expect.stringContaining("protocol 2") });
    expect(old.socket.frames().some((f) => f.case === "welcome")).toBe(false);
  });

  it("welcomes without pixels and sends nothing until the client watches", async () => {
    const { connect, canvas } = setup();
    const idle = connect();
    idle.send(hello());
    await vi.waitFor(() => expect(idle.conn.state.kind).toBe("live"));
    expect(idle.socket.frames()[0]).toMatchObject({ case: "welcome", value: { width: 600, height: 300, tileSize: 256, levelCount: 3, protocol: 4 } });
    const tileWatcher = connect();
    await watching(tileWatcher, [0, 0]);
    await canvas.setPixels("default", [{ x: 1, y: 1, color: 5 }], "");
    await vi.waitFor(() => expect(batchSeqsOf(tileWatcher.socket.frames())).toEqual([1n]));
    expect(batchSeqsOf(idle.socket.frames())).toEqual([]);
  });

  it("sends a client watching one tile nothing for batches that touch only other tiles, and whole batches that touch it", async () => {
    const { connect, canvas } = setup();
    const left = connect();
    const right = connect();
    const both = connect();
    await watching(left, [0, 0]);
    await watching(right, [2, 1]);
    await watching(both, [0, 0], [2, 1]);
    await canvas.setPixels("default", [{ x: 10, y: 10, color: 1 }], ""); // 1: tile 0:0
    await canvas.setPixels("default", [{ x: 599, y: 299, color: 2 }], ""); // 2: tile 2:1
    await canvas.setPixels("default", [{ x: 300, y: 10, color: 3 }], ""); // 3: tile 1:0, watched by nobody
    await canvas.setPixels("default", [{ x: 5, y: 5, color: 4 }, { x: 550, y: 280, color: 4 }], ""); // 4: both
    await vi.waitFor(() => expect(batchSeqsOf(both.socket.frames())).toEqual([1n, 2n, 4n]));
    expect(batchSeqsOf(left.socket.frames())).toEqual([1n, 4n]);
    expect(batchSeqsOf(right.socket.frames())).toEqual([2n, 4n]);
    // Batch 4 arrives whole, both of its pixels, even where the client watches only one tile.
    const batches = left.socket.frames().flatMap((f) => (f.case === "batch" ? [f.value] : f.case === "batches" ? f.value.batches : []));
    expect(batches.find((b) => b.seq === 4n)?.pixels).toHaveLength(2);
  });

  it("moves a watch: the new set applies after Watching.seq, with no gap and nothing twice", async () => {
    const { connect, canvas } = setup();
    const c = connect();
    await watching(c, [0, 0]);
    await canvas.setPixels("default", [{ x: 1, y: 1, color: 1 }], ""); // 1: 0:0
    await canvas.setPixels("default", [{ x: 300, y: 1, color: 2 }], ""); // 2: 1:0
    await vi.waitFor(() => expect(batchSeqsOf(c.socket.frames())).toEqual([1n]));
    const moved = await watching(c, [1, 0]);
    expect(moved).toMatchObject({ seq: 2n, replayed: false });
    await canvas.setPixels("default", [{ x: 1, y: 2, color: 3 }], ""); // 3: 0:0, no longer watched
    await canvas.setPixels("default", [{ x: 301, y: 2, color: 4 }], ""); // 4: 1:0
    await vi.waitFor(() => expect(batchSeqsOf(c.socket.frames())).toEqual([1n, 4n]));
  });

  it("refuses a Watch before Hello and a tile outside the canvas", async () => {
    const { connect } = setup();
    const early = connect();
    early.send(watch([0, 0]));
    expect(early.socket.errors()).toMatchObject([{ code: ErrorCode.NOT_JOINED }]);
    const c = connect();
    c.send(hello());
    await vi.waitFor(() => expect(c.conn.state.kind).toBe("live"));
    c.send(watch([3, 0]));
    expect(c.socket.errors()).toMatchObject([{ code: ErrorCode.INVALID_ARGUMENT, message: expect.stringContaining("3:0") }]);
  });
});
