import { create, toBinary } from "@bufbuild/protobuf";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { ClientFrameSchema, CloseCode, ServerFrameSchema } from "../../../gen/pixel/v1/realtime_pb.js";
import { fromBinary } from "@bufbuild/protobuf";
import { waitFor } from "../../../tools/process/free-port.js";
import { loadConfig } from "../../shared/config.js";
import { MemoryPixelBus } from "../../shared/pixel-bus.js";
import { FakeCanvasService } from "../test-support/fake-canvas.js";
import { createGatewayServer, type GatewayServer } from "./gateway-server.js";
import type { GatewayTuning } from "../gateway-tuning.js";
import { MemoryPresenceStore } from "../presence/presence.js";
import { quietLog } from "../test-support/test-helpers.js";
import { QUEUED_FRAME_OVERHEAD_BYTES } from "./ws-client-socket.js";
import { clientFrame, openNonReadingSocket, OPCODE } from "../../../tests/fuzz/raw-ws-client.js";

// In-process gateway on a real port with real sockets; the canvas service is the in-memory fake.

const servers: GatewayServer[] = [];
const sockets: (Socket | WebSocket)[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s instanceof WebSocket ? s.terminate() : s.destroy();
  for (const s of servers.splice(0)) await s.shutdown(0);
});

async function start(tuning: Partial<GatewayTuning>, env: Record<string, string> = {}): Promise<{ gw: GatewayServer; port: number }> {
  const bus = new MemoryPixelBus();
  const gw = createGatewayServer({
    config: loadConfig({ PIXELS_PER_SECOND: "1000", PIXEL_BURST: "1000", ...env }),
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
  const socket = await openNonReadingSocket(port);
  sockets.push(socket);
  return socket;
}

/** Opens a ws client; resolves once open. */
async function openClient(port: number, options: { origin?: string } = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, options);
  sockets.push(ws);
  ws.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return ws;
}

/** The status an upgrade to /ws gets with this Origin header (none when undefined): 101, or the refusal's status. */
function upgradeStatus(port: number, origin: string | undefined): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, origin === undefined ? {} : { origin });
  sockets.push(ws);
  ws.on("error", () => undefined);
  return new Promise((resolve) => {
    ws.once("open", () => resolve(101));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
  });
}

/** The close code a client sees. */
const closeCodeOf = (ws: WebSocket) => new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));

describe("gateway server (real sockets, in process)", () => {
  it("closes with 1008 a client that never reads and floods 10,000 invalid 14-byte Places, after refusing 100 of them, and queues no more than those 100 Errors", async () => {
    const { gw, port } = await start({ refusedFramesMax: 100, forcedCloseGraceMs: 200 });
    const socket = await openNonReader(port);
    await waitFor("connection", () => gw.gateway.connections.size === 1, 5000, 10);
    const [conn] = gw.gateway.connections;
    const closeCalls = vi.spyOn(conn!.socket, "close");
    const sendCalls = vi.spyOn(conn!.socket, "send");
    let maxQueued = 0;
    const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, conn!.socket.queuedBytes)), 5);
    const place = toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "place", value: { clientSeq: 1000, pixels: [{ x: 1, y: 2, color: 0x1234 }] } as never } }));
    expect(place.length).toBe(14);
    // Not joined: every Place is refused with NOT_JOINED, an Error frame each, until the 101st closes.
    socket.write(Buffer.concat(Array.from({ length: 10_000 }, () => clientFrame(OPCODE.binary, place))));
    await waitFor("gateway dropped the connection", () => gw.gateway.connections.size === 0, 5000, 10);
    clearInterval(sampler);
    expect(conn!.state.kind).toBe("closed");
    expect(closeCalls.mock.calls.map((c) => c[0])).toEqual([CloseCode.POLICY_VIOLATION]);
    expect(sendCalls).toHaveBeenCalledTimes(100);
    expect(maxQueued).toBeLessThanOrEqual(100 * (64 + QUEUED_FRAME_OVERHEAD_BYTES));
  });

  it("refuses a socket over MAX_CONNECTIONS with close 1013 and keeps the ones it holds", async () => {
    const { gw, port } = await start({}, { MAX_CONNECTIONS: "2" });
    const first = await openClient(port);
    await openClient(port);
    const third = await openClient(port);
    expect(await closeCodeOf(third)).toBe(CloseCode.TRY_AGAIN_LATER);
    expect(first.readyState).toBe(WebSocket.OPEN);
    expect(gw.gateway.connections.size).toBe(2);
  });

  it("closes a client that sends a frame over 64 KiB with 1009, and takes one of exactly 64 KiB as a (malformed) frame", async () => {
    const { port } = await start({});
    const ws = await openClient(port);
    const errors: number[] = [];
    ws.on("message", (data: Buffer) => {
      const frame = fromBinary(ServerFrameSchema, data).frame;
      if (frame.case === "error") errors.push(frame.value.code);
    });
    ws.send(Buffer.alloc(64 * 1024, 0xff));
    await waitFor("an Error for the 64 KiB frame", () => errors.length === 1, 5000, 10);
    const closed = closeCodeOf(ws);
    ws.send(Buffer.alloc(64 * 1024 + 1));
    expect(await closed).toBe(CloseCode.MESSAGE_TOO_BIG);
  });

  it("terminates, through ws's maxPendingAutoPongs (60), a client that floods protocol pings and never reads the pongs", async () => {
    const { gw, port } = await start({});
    const socket = await openNonReader(port);
    await waitFor("connection", () => gw.gateway.connections.size === 1, 5000, 10);
    const [conn] = gw.gateway.connections;
    const closeCalls = vi.spyOn(conn!.socket, "close");
    const ping = clientFrame(OPCODE.ping, new Uint8Array(125));
    const chunk = Buffer.concat(Array.from({ length: 1_000 }, () => ping));
    let written = 0;
    // Until the kernel buffers are full, ws's pongs still go out: keep pinging until it gives up.
    while (gw.gateway.connections.size === 1 && written < 400) {
      socket.write(chunk);
      written++;
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor("ws terminated the socket", () => gw.gateway.connections.size === 0, 5000, 10);
    // Terminated by ws itself, not closed by the gateway's own policy.
    expect(closeCalls).not.toHaveBeenCalled();
    expect(conn!.state.kind).toBe("closed");
  });

  it("refuses upgrades from disallowed origins with 403 and accepts the listed one, the page's own and none", async () => {
    const { port } = await start({}, { ALLOWED_ORIGINS: "https://pixels.example" });
    expect(await upgradeStatus(port, "https://evil.example")).toBe(403);
    expect(await upgradeStatus(port, "null")).toBe(403);
    expect(await upgradeStatus(port, "https://pixels.example.evil.example")).toBe(403);
    expect(await upgradeStatus(port, `http://127.0.0.1:${port}.evil.example`)).toBe(403);
    expect(await upgradeStatus(port, `http://127.0.0.1:${port + 1}`)).toBe(403);
    // The scheme is not compared: behind a TLS-terminating proxy the page is https, the gateway hears http.
    expect(await upgradeStatus(port, `https://127.0.0.1:${port}`)).toBe(101);
    expect(await upgradeStatus(port, `http://127.0.0.1:${port}`)).toBe(101);
    expect(await upgradeStatus(port, undefined)).toBe(101);
    const ws = await openClient(port, { origin: "https://pixels.example" });
    const welcome = new Promise<string | undefined>((resolve) => ws.once("message", (data: Buffer) => resolve(fromBinary(ServerFrameSchema, data).frame.case)));
    ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: { canvasId: "", name: "", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never } })));
    expect(await welcome).toBe("welcome");
  });

  it("terminates a client that does not answer pings after the heartbeat interval, and keeps one that does", async () => {
    const { gw, port } = await start({ socketPingIntervalMs: 200 });
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
