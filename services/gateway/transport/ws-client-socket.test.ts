import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { waitFor } from "../../../tools/process/free-port.js";
import { QUEUED_FRAME_OVERHEAD_BYTES, WsClientSocket } from "./ws-client-socket.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A ws server and a raw TCP client that has upgraded and then stopped reading. */
async function nonReadingPair(): Promise<{ server: WebSocket; client: Socket }> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const accepted = new Promise<WebSocket>((r) => wss.once("connection", (ws) => r(ws)));
  const address = wss.address();
  const client = connect(typeof address === "object" && address ? address.port : 0, "127.0.0.1");
  client.on("error", () => undefined);
  cleanups.push(() => {
    client.destroy();
    wss.close();
    for (const ws of wss.clients) ws.terminate();
  });
  client.write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  await new Promise<void>((r) => client.once("data", () => r()));
  client.pause();
  const server = await accepted;
  server.on("error", () => undefined);
  return { server, client };
}

describe("WsClientSocket", () => {
  it("charges each queued frame its bytes plus the per-frame overhead until the kernel takes it", async () => {
    const { server } = await nonReadingPair();
    const socket = new WsClientSocket(server);
    socket.send(new Uint8Array(10));
    expect(socket.queuedBytes).toBe(10 + QUEUED_FRAME_OVERHEAD_BYTES);
    await waitFor("the frame reached the kernel", () => socket.queuedBytes === 0, 2_000, 5);
  });

  it("pauses reading a socket whose queue does not drain, resumes it once drained, and reports one that never drains", async () => {
    const { server, client } = await nonReadingPair();
    const socket = new WsClientSocket(server);
    const frame = new Uint8Array(64 * 1024);
    // Fill the kernel buffers, then queue in user space.
    for (let i = 0; i < 400; i++) socket.send(frame);
    expect(socket.queuedBytes).toBeGreaterThan(1024 * 1024);
    let stalled = 0;
    socket.pauseReading(0, 60_000, () => stalled++);
    expect(server.isPaused).toBe(true);
    client.resume();
    await waitFor("drained and resumed", () => !server.isPaused, 10_000, 5);
    expect(socket.queuedBytes).toBe(0);
    client.pause();
    for (let i = 0; i < 400; i++) socket.send(frame);
    socket.pauseReading(0, 50, () => stalled++);
    await waitFor("reported as stalled", () => stalled === 1, 2_000, 5);
    expect(server.isPaused).toBe(true);
  });
});
