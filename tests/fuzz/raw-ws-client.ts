import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/** WebSocket opcodes a raw client sends. */
export const OPCODE = { binary: 0x2, ping: 0x9 } as const;

/** One masked client-to-server WebSocket frame (RFC 6455 §5.2). */
export function clientFrame(opcode: number, payload: Uint8Array): Buffer {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + 4);
  head[0] = 0x80 | opcode;
  head[1] = 0x80 | (lengthBytes === 0 ? n : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(n, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(n), 2);
  const mask = randomBytes(4);
  mask.copy(head, 2 + lengthBytes);
  const body = Buffer.from(payload);
  for (let i = 0; i < n; i++) body[i] = (body[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([head, body]);
}

/**
 * Opens /ws over a plain TCP socket and stops reading right after the 101 answer: a client that
 * never reads, so whatever the gateway sends it piles up in the gateway's buffers.
 */
export async function openNonReadingSocket(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const key = randomBytes(16).toString("base64");
  socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause();
      if (head.startsWith("HTTP/1.1 101")) resolve();
      else reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error("closed during the upgrade")));
  });
  return socket;
}

/**
 * Writes `chunk` over and over (respecting TCP back-pressure) until `maxBytes` are written, the
 * deadline passes, or the peer closes; returns the bytes written.
 */
export async function flood(socket: Socket, chunk: Buffer, maxBytes: number, deadline: number): Promise<number> {
  let written = 0;
  while (written < maxBytes && Date.now() < deadline && !socket.destroyed && socket.writable) {
    written += chunk.length;
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        socket.once("drain", done);
        socket.once("close", done);
      });
    }
  }
  return written;
}
