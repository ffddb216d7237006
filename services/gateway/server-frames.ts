import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  ErrorCode,
  ServerFrameSchema,
  WelcomeSchema,
  type ClientFrame,
} from "../../gen/pixel/v1/realtime_pb.js";

/** ServerFrame field tags (field number << 3 | wire type 2), used to frame pre-encoded bodies. */
const WELCOME_TAG = 0x0a;
const BATCH_TAG = 0x12;
/** Welcome.connection_id (field 8, length-delimited). */
const CONNECTION_ID_TAG = 0x42;

function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/** Prefixes an encoded message with a length-delimited tag, i.e. embeds it as one field. */
function embed(tag: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + varintLength(body.length) + body.length);
  const offset = writeVarint(out, 1, body.length);
  out[0] = tag;
  out.set(body, offset);
  return out;
}

/**
 * Frames published PixelBatch bytes as a `ServerFrame{batch}` without decoding or
 * re-encoding them: a 2-6 byte prefix plus one copy. The result is sent as-is to every socket.
 */
export function batchFrame(pixelBatch: Uint8Array): Buffer {
  return embed(BATCH_TAG, pixelBatch);
}

/** The parts of a Welcome shared by every connection of a room at one seq. */
export interface WelcomeFields {
  canvasId: string;
  width: number;
  height: number;
  seq: bigint;
  epoch: bigint;
  /** Empty for a resumed Welcome. */
  pixels: Uint8Array;
  resumed: boolean;
  maxPixelsPerPlace: number;
  pixelsPerSecond: number;
}

/**
 * Encodes the connection-independent part of a Welcome once, so a room can cache it
 * (a snapshot may be megabytes) and each connection only appends its id.
 */
export function encodeWelcomeBody(fields: WelcomeFields): Uint8Array {
  return toBinary(WelcomeSchema, create(WelcomeSchema, fields));
}

/**
 * Completes a cached Welcome body with a connection id and frames it. Protobuf
 * merges concatenated encodings, so appending field 8 equals encoding it in place.
 */
export function welcomeFrame(body: Uint8Array, connectionId: string): Buffer {
  const id = Buffer.from(connectionId, "utf8");
  const welcome = Buffer.allocUnsafe(body.length + 1 + varintLength(id.length) + id.length);
  welcome.set(body, 0);
  welcome[body.length] = CONNECTION_ID_TAG;
  const offset = writeVarint(welcome, body.length + 1, id.length);
  id.copy(welcome, offset);
  return embed(WELCOME_TAG, welcome);
}

/** Encodes `ServerFrame{ack}`. */
export function ackFrame(clientSeq: number, seq: bigint): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "ack", value: { clientSeq, seq } } }));
}

/** Encodes `ServerFrame{error}`. */
export function errorFrame(code: ErrorCode, message: string, clientSeq = 0): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "error", value: { code, message, clientSeq } } }));
}

/** Encodes `ServerFrame{pong}` with the gateway's clock. */
export function pongFrame(nonce: bigint, now: number = Date.now()): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "pong", value: { nonce, serverTimeUnixMs: BigInt(now) } } }));
}

/** Encodes `ServerFrame{presence}`. */
export function presenceFrame(online: number, names: readonly string[]): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "presence", value: { online, names: [...names] } } }));
}

/** A decoded client frame, or why it could not be decoded. */
export type DecodedClientFrame =
  | { ok: true; frame: Exclude<ClientFrame["frame"], { case: undefined }> }
  | { ok: false; message: string };

/**
 * Parses one WebSocket message at the edge. Text frames, undecodable bytes and an
 * empty oneof are all malformed; nothing here throws.
 */
export function decodeClientFrame(data: Uint8Array, isBinary: boolean): DecodedClientFrame {
  if (!isBinary) return { ok: false, message: "text frames are not accepted: send one binary pixel.v1.ClientFrame per message" };
  let decoded: ClientFrame;
  try {
    decoded = fromBinary(ClientFrameSchema, data);
  } catch (err) {
    return { ok: false, message: `not a pixel.v1.ClientFrame: ${(err as Error).message}` };
  }
  if (decoded.frame.case === undefined) return { ok: false, message: "the ClientFrame sets none of hello, place, set_name, ping" };
  return { ok: true, frame: decoded.frame };
}
