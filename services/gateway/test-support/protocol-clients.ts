import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterEach, expect, vi } from "vitest";
import { ClientFrameSchema, ServerFrameSchema, type ClientFrame } from "../../../gen/pixel/v1/realtime_pb.js";
import { MemoryPixelBus } from "../../shared/pixel-bus.js";
import { FakeCanvasService } from "./fake-canvas.js";
import type { Gateway } from "../gateway.js";
import type { GatewayTuning } from "../gateway-tuning.js";
import { FakeSocket, startTestGateway } from "./test-helpers.js";

/**
 * A gateway on a fake canvas service (8 x 8, one tile) with `connect(protocol, watch)`: a client
 * that says Hello with that pixel protocol, optionally watches the tile, and reads back every
 * frame it got. For tests of what the protocol version changes (acks, columns). Gateways are shut
 * down after each test.
 */
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.shutdown(0);
});

export function setupProtocolGateway(tuning: Partial<GatewayTuning> = {}) {
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

