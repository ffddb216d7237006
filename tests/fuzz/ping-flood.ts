import { create, toBinary } from "@bufbuild/protobuf";
import { ClientFrameSchema } from "../../gen/pixel/v1/realtime_pb.js";
import type { FuzzRecord } from "./fuzz-record.js";
import { clientFrame, flood, openNonReadingSocket, OPCODE } from "./raw-ws-client.js";

/** How hard the flood pushes. */
export interface FloodOptions {
  port: number;
  /** Sockets sending application Pings, and as many sending WebSocket ping control frames. */
  socketsPerKind: number;
  /** Bytes each socket writes at most. */
  bytesPerSocket: number;
  /** And for at most this long. */
  durationMs: number;
  /** Then they stay connected, still not reading, this long: the gateway works through what it received. */
  holdMs: number;
}

/** About 64 KiB of frames, written in one call. */
function repeatToChunk(frame: Buffer): Buffer {
  return Buffer.concat(Array.from({ length: Math.max(1, Math.floor(65_536 / frame.length)) }, () => frame));
}

/**
 * Clients that flood Pings and never read a byte: application Ping frames (answered by Pongs) and
 * WebSocket ping control frames (answered by pongs), so every answer piles up in the gateway.
 * Bounded in bytes and time; the sockets stay open, unread, for `holdMs` and are then destroyed.
 */
export async function runPingFlood(options: FloodOptions, record: FuzzRecord): Promise<void> {
  const appPing = clientFrame(OPCODE.binary, toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "ping", value: { nonce: 0xffff_ffffn } } })));
  const wsPing = clientFrame(OPCODE.ping, new Uint8Array(125).fill(0x70));
  const kinds: [string, Buffer, number][] = [["app-ping", repeatToChunk(appPing), appPing.length], ["ws-ping", repeatToChunk(wsPing), wsPing.length]];
  // Connect every flooder first, so a busy gateway cannot starve the later upgrades.
  const flooders = await Promise.all(kinds.flatMap(([kind, chunk, frameBytes]) =>
    Array.from({ length: options.socketsPerKind }, async () => ({ kind, chunk, frameBytes, socket: await openNonReadingSocket(options.port) }))));
  const deadline = Date.now() + options.durationMs;
  await Promise.all(flooders.map(async ({ kind, chunk, frameBytes, socket }) => {
    const written = await flood(socket, chunk, options.bytesPerSocket, deadline);
    record.count(record.sent, `flood.${kind}.frames`, Math.floor(written / frameBytes));
    record.count(record.sent, `flood.${kind}.KiB`, Math.round(written / 1024));
  }));
  await new Promise((r) => setTimeout(r, options.holdMs));
  for (const { socket } of flooders) socket.destroy();
}
