import { create, toBinary } from "@bufbuild/protobuf";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ClientFrameSchema } from "../../../gen/pixel/v1/realtime_pb.js";
import { waitFor } from "../../../tools/process/free-port.js";
import { loadConfig } from "../../shared/config.js";
import { MemoryPixelBus } from "../../shared/pixel-bus.js";
import { FakeCanvasService } from "../test-support/fake-canvas.js";
import { createGatewayServer, type GatewayServer } from "./gateway-server.js";
import type { GatewayTuning } from "../gateway-tuning.js";
import { MemoryPresenceStore } from "../presence/presence.js";
import { quietLog } from "../test-support/test-helpers.js";

// In-process gateway on a real port with real sockets; the canvas service is the in-memory fake.

const servers: GatewayServer[] = [];
const sockets: (Socket | WebSocket)[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s instanceof WebSocket ? s.terminate() : s.destroy();
  for (const s of servers.splice(0)) await s.shutdown(0);
});

async function start(tuning: Partial<GatewayTuning>): Promise<{ gw: GatewayServer; port: number }> {
  const bus = new MemoryPixelBus();
  const gw = createGatewayServer({
    config: loadConfig({ PIXELS_PER_SECOND: "1000", PIXEL_BURST: "1000" }),
    log: quietLog,
    bus,
    canvas: new FakeCanvasService(bus, 8, 8),
    presence: new MemoryPresenceStore("g1", 1000),
    tuning,
  });
  servers.push(gw);
  await new Promise<void>((resolve) => gw.server.listen(0, "127.0.0.1", resolve));
  const address = gw.server.address();
  return { gw, port: typeof address === "object" && address ? address.port : 0 };
}

/** Opens /ws over a raw TCP socket and then stops reading it, like a client that never reads. */
async function openNonReader(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => undefined);
  socket.write(
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await new Promise<void>((resolve, reject) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      if (!head.startsWith("HTTP/1.1 101")) reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
      else resolve();
    };
    socket.on("data", onData);
  });
  socket.pause();
  return socket;
}

/** One masked binary client frame (mask key zero, so the payload goes as is). */
function maskedFrame(payload: Uint8Array): Buffer {
  if (payload.length >= 126) throw new Error("short frames only");
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

describe("gateway server (real sockets, in process)", () => {
  it("disconnects a client that never reads and floods 600k invalid 14-byte Places, without growing its send buffer", async () => {
    const { gw, port } = await start({ refusedFramesMax: 100, forcedCloseGraceMs: 200 });
    const socket = await openNonReader(port);
    await waitFor("connection", () => gw.gateway.connections.size === 1, 5000, 10);
    const [conn] = gw.gateway.connections;
    let maxBuffered = 0;
    const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, conn!.socket.queuedBytes)), 5);
    const place = toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "place", value: { clientSeq: 1000, pixels: [{ x: 1, y: 2, color: 0x1234 }] } as never } }));
    expect(place.length).toBe(14);
    const chunk = Buffer.concat(Array.from({ length: 10_000 }, () => maskedFrame(place)));
    let closed = false;
    socket.once("close", () => (closed = true));
    // 60 chunks of 10,000 frames; stop as soon as the gateway cut the connection.
    for (let i = 0; i < 60 && !closed && !socket.destroyed; i++) {
      if (!socket.write(chunk)) await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor("gateway dropped the connection", () => gw.gateway.connections.size === 0, 5000, 10);
    clearInterval(sampler);
    expect(conn!.state.kind).toBe("closed");
    // 100 Error frames of about 50 bytes each at most, never megabytes.
    expect(maxBuffered).toBeLessThan(64 * 1024);
  });

  it("terminates a client that does not answer pings after the heartbeat interval, and keeps one that does", async () => {
    const { gw, port } = await start({ heartbeatIntervalMs: 200 });
    const open = async (autoPong: boolean) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { autoPong });
      sockets.push(ws);
      ws.on("error", () => undefined);
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      return ws;
    };
    const silent = await open(false);
    const answering = await open(true);
    let pingsSeen = 0;
    silent.on("ping", () => pingsSeen++);
    const started = Date.now();
    const closedAt = new Promise<{ code: number; ms: number }>((resolve) => silent.once("close", (code) => resolve({ code, ms: Date.now() - started })));
    const { code, ms } = await closedAt;
    // Terminated (no close frame: 1006) after one unanswered ping, within two or three intervals.
    expect(code).toBe(1006);
    expect(pingsSeen).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(answering.readyState).toBe(WebSocket.OPEN);
    expect(gw.gateway.connections.size).toBe(1);
  });
});
