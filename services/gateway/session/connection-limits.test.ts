import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClientFrameSchema, CloseCode, ErrorCode, type ClientFrame } from "../../../gen/pixel/v1/realtime_pb.js";
import { MemoryPixelBus } from "../../shared/pixel-bus.js";
import { FakeCanvasService } from "../test-support/fake-canvas.js";
import type { Gateway } from "../gateway.js";
import type { GatewayTuning } from "../gateway-tuning.js";
import { FakeSocket, startTestGateway } from "../test-support/test-helpers.js";
import { roomOf } from "./connection-state.js";

const gateways: Gateway[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.shutdown(0);
});

function setup(tuning: Partial<GatewayTuning>, pixelsPerSecond = 1000) {
  const bus = new MemoryPixelBus();
  const canvas = new FakeCanvasService(bus, 8, 8);
  const gateway = startTestGateway(bus, canvas, tuning, { pixelsPerSecond });
  gateways.push(gateway);
  /** A client that never reads: everything the gateway sends stays buffered. */
  const connectNonReader = () => {
    const socket = new FakeSocket(true);
    const conn = gateway.open(socket);
    conn.identity = { userId: "u_test", ipKey: "192.0.2.1" };
    return { socket, conn, send: (bytes: Uint8Array) => conn.receive(bytes, true) };
  };
  return { gateway, connectNonReader };
}

const encode = (frame: ClientFrame["frame"]) => toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame }));

describe("Connection limits against a client that floods and never reads", () => {
  it("closes with 4001 once non-batch frames (Pongs) would push its send buffer past the cap, and buffers nothing beyond it", async () => {
    const cap = 4096;
    const { connectNonReader } = setup({ sendBufferMaxBytes: cap, slowConsumerBytes: 1024, forcedCloseGraceMs: 20 });
    const c = connectNonReader();
    const ping = encode({ case: "ping", value: { nonce: 123456789n } as never });
    let sent = 0;
    // Pings are valid, so only the buffer cap can stop this; without it every Pong is buffered.
    while (c.socket.closedWith === undefined && sent < 20_000) {
      c.send(ping);
      sent++;
    }
    expect(c.socket.closedWith?.code).toBe(CloseCode.SLOW_CONSUMER);
    expect(c.socket.queuedBytes).toBeLessThanOrEqual(cap);
    expect(sent).toBeLessThan(2_000);
    // Frames after the close are not buffered either.
    const buffered = c.socket.queuedBytes;
    for (let i = 0; i < 100; i++) c.send(ping);
    expect(c.socket.queuedBytes).toBe(buffered);
    // A client that never reads never answers the close frame: it is cut off after the grace time.
    await vi.waitFor(() => expect(c.socket.terminated).toBe(true));
  });

  it("closes with 1008 a client flooding 600k invalid 14-byte Places once its refusals pass the threshold of the window", () => {
    const { connectNonReader } = setup({ refusedFramesMax: 50, refusedFramesWindowMs: 60_000 });
    const c = connectNonReader();
    // Not joined: every Place is refused with NOT_JOINED.
    const invalidPlace = encode({ case: "place", value: { clientSeq: 1000, pixels: [{ x: 1, y: 2, color: 0x1234 }] } as never });
    expect(invalidPlace.length).toBe(14);
    let sent = 0;
    while (c.socket.closedWith === undefined && sent < 600_000) {
      c.send(invalidPlace);
      sent++;
    }
    expect(c.socket.closedWith?.code).toBe(CloseCode.POLICY_VIOLATION);
    expect(sent).toBe(51);
    expect(c.socket.errors().map((e) => e.code)).toEqual(Array.from({ length: 50 }, () => ErrorCode.NOT_JOINED));
  });

  it("counts INVALID_ARGUMENT and RATE_LIMITED refusals of a joined client, but forgets them when the window ends", async () => {
    const { connectNonReader } = setup({ refusedFramesMax: 5, refusedFramesWindowMs: 100 }, 1);
    const c = connectNonReader();
    c.send(encode({ case: "hello", value: { canvasId: "", name: "ann", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never }));
    await vi.waitFor(() => expect(c.conn.state.kind).toBe("live"));
    const outOfRange = encode({ case: "place", value: { clientSeq: 2, pixels: [{ x: 99, y: 0, color: 1 }] } as never });
    for (let i = 0; i < 5; i++) c.send(outOfRange);
    expect(c.socket.closedWith).toBeUndefined();
    await new Promise((r) => setTimeout(r, 150));
    const tooMany = encode({ case: "place", value: { clientSeq: 3, pixels: Array.from({ length: 1000 }, (_, i) => ({ x: i % 8, y: 0, color: 1 })) } as never });
    c.send(tooMany);
    for (let i = 0; i < 4; i++) c.send(outOfRange);
    expect(c.socket.closedWith).toBeUndefined();
    expect(c.socket.errors().filter((e) => e.code === ErrorCode.RATE_LIMITED)).toHaveLength(0);
    // The bucket (burst 1000, 1/s) is empty after the 1000-pixel Place: 100 more pixels are RATE_LIMITED, the fifth refusal.
    c.send(encode({ case: "place", value: { clientSeq: 4, pixels: Array.from({ length: 100 }, () => ({ x: 0, y: 0, color: 1 })) } as never }));
    expect(c.socket.errors().at(-1)?.code).toBe(ErrorCode.RATE_LIMITED);
    expect(c.socket.closedWith).toBeUndefined();
    // The sixth within the window is one too many.
    c.send(outOfRange);
    expect(c.socket.closedWith?.code).toBe(CloseCode.POLICY_VIOLATION);
  });
});
