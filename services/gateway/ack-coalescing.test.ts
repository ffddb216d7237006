import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClientFrameSchema, ServerFrameSchema, type ClientFrame } from "../../gen/pixel/v1/realtime_pb.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { FakeCanvasService } from "./test-support/fake-canvas.js";
import type { Gateway } from "./gateway.js";
import type { GatewayTuning } from "./gateway-tuning.js";
import { FakeSocket, startTestGateway } from "./test-support/test-helpers.js";

const gateways: Gateway[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.shutdown(0);
});

function setup(tuning: Partial<GatewayTuning> = {}) {
  const bus = new MemoryPixelBus();
  const canvas = new FakeCanvasService(bus, 8, 8, ["default"]);
  const gateway = startTestGateway(bus, canvas, tuning);
  gateways.push(gateway);
  const connect = async (protocol: number, watch: boolean) => {
    const socket = new FakeSocket();
    const conn = gateway.open(socket);
    conn.identity = { userId: "u_test", ipKey: "192.0.2.1" };
    const send = (frame: ClientFrame["frame"]) => conn.receive(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })), true);
    send({ case: "hello", value: { canvasId: "", name: "ann", lastSeq: 0n, lastEpoch: 0n, protocol } as never });
    await vi.waitFor(() => expect(conn.state.kind).toBe("live"));
    if (watch) {
      send({ case: "watch", value: { tiles: [{ tx: 0, ty: 0 }], afterSeq: 0n, afterEpoch: 0n } as never });
      await vi.waitFor(() => expect(socket.frames().some((f) => f.case === "watching")).toBe(true));
    }
    const full = () => socket.sent.map((bytes) => fromBinary(ServerFrameSchema, bytes));
    /** Every ack received, in order, from `ack` frames and from ServerFrame.acks. */
    const acks = () => full().flatMap((f) => [...(f.frame.case === "ack" ? [f.frame.value] : []), ...f.acks].map((a) => [a.clientSeq, Number(a.seq)]));
    const place = (clientSeq: number, x: number) => send({ case: "place", value: { clientSeq, pixels: [{ x, y: 0, color: 1 }] } as never });
    return { socket, full, acks, place };
  };
  return { canvas, connect };
}

describe("Acks coalesced per flush (protocol 3)", () => {
  it("carries the acks of Places stored together in the frame of their batch, in place order", async () => {
    const { canvas, connect } = setup({ frameBudgetMs: 0 });
    const c = await connect(3, true);
    const release = canvas.holdWrites();
    c.place(1, 0); // in flight alone
    c.place(2, 1); // these two ride the next call together
    c.place(3, 2);
    release();
    await vi.waitFor(() => expect(c.acks()).toEqual([[1, 1], [2, 2], [3, 2]]));
    const frames = c.full();
    expect(frames.some((f) => f.frame.case === "ack")).toBe(false);
    // The two Places stored together are acked in one frame, which also carries their batch.
    const carrying = frames.find((f) => f.acks.some((a) => a.clientSeq === 3))!;
    expect(carrying.acks.map((a) => a.clientSeq)).toEqual(expect.arrayContaining([2, 3]));
    expect(["batch", "batches"]).toContain(carrying.frame.case);
  });

  it("sends the acks alone to a placer that watches nothing", async () => {
    const { connect } = setup({ frameBudgetMs: 0 });
    const c = await connect(3, false);
    c.place(1, 0);
    await vi.waitFor(() => expect(c.acks()).toEqual([[1, 1]]));
    const carrying = c.full().find((f) => f.acks.length > 0)!;
    expect(carrying.frame.case).toBeUndefined();
    expect(carrying.acks).toHaveLength(1);
  });

  it("keeps one `ack` frame per Place for a protocol 2 client, beside a protocol 3 one", async () => {
    const { canvas, connect } = setup({ frameBudgetMs: 0 });
    const old = await connect(2, true);
    const release = canvas.holdWrites();
    old.place(1, 0);
    old.place(2, 1);
    release();
    await vi.waitFor(() => expect(old.acks()).toEqual([[1, 1], [2, 2]]));
    expect(old.full().every((f) => f.acks.length === 0)).toBe(true);
    expect(old.full().filter((f) => f.frame.case === "ack")).toHaveLength(2);
  });

  it("sends `ack` frames at once to every client with COALESCE_ACKS off", async () => {
    const { connect } = setup({ coalesceAcks: false });
    const c = await connect(3, true);
    c.place(1, 0);
    await vi.waitFor(() => expect(c.acks()).toEqual([[1, 1]]));
    expect(c.full().filter((f) => f.frame.case === "ack")).toHaveLength(1);
    expect(c.full().every((f) => f.acks.length === 0)).toBe(true);
  });
});
