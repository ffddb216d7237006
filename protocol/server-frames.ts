import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  ErrorCode,
  ServerFrameSchema,
  WelcomeSchema,
  type ClientFrame,
} from "../gen/pixel/v1/realtime_pb.js";

/** ServerFrame field tags (field number << 3 | wire type 2), used to frame pre-encoded bodies. */
const WELCOME_TAG = 0x0a;
const BATCH_TAG = 0x12;
/** ServerFrame.batches (field 7), and Batches.batches (field 1), both length-delimited. */
const BATCHES_TAG = 0x3a;
const BATCHES_ITEM_TAG = 0x0a;
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

/**
 * Coalesces `ServerFrame{batch}` frames (as batchFrame made them, consecutive seqs, oldest first)
 * into one `ServerFrame{batches}` without decoding them: ServerFrame.batch (field 2) and
 * Batches.batches (field 1) both hold a length-delimited PixelBatch, so each frame becomes an
 * element by rewriting its tag byte, and the whole is prefixed with field 7's tag and length.
 * A single frame is returned as it is, so a lone batch keeps the exact bytes of `batch`.
 */
export function coalescedFrame(batchFrames: readonly Buffer[]): Buffer {
  if (batchFrames.length === 1) return batchFrames[0]!;
  let bodyLength = 0;
  for (const frame of batchFrames) bodyLength += frame.length;
  const out = Buffer.allocUnsafe(1 + varintLength(bodyLength) + bodyLength);
  out[0] = BATCHES_TAG;
  let offset = writeVarint(out, 1, bodyLength);
  for (const frame of batchFrames) {
    if (frame[0] !== BATCH_TAG) throw new Error("coalescedFrame takes ServerFrame{batch} frames only");
    out.set(frame, offset);
    out[offset] = BATCHES_ITEM_TAG;
    offset += frame.length;
  }
  return out;
}

/**
 * Groups consecutive batch frames into coalesced frames of at most about `maxBytes` each (a
 * frame larger than that goes alone), so a resume replay costs a few frames, not one per batch.
 */
export function coalesceFrames(batchFrames: readonly Buffer[], maxBytes: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < batchFrames.length; i++) {
    const length = batchFrames[i]!.length;
    if (i > start && bytes + length > maxBytes) {
      out.push(coalescedFrame(batchFrames.slice(start, i)));
      start = i;
      bytes = 0;
    }
    bytes += length;
  }
  if (start < batchFrames.length) out.push(coalescedFrame(batchFrames.slice(start)));
  return out;
}

/** The frames_out `type` of a batch or coalesced frame. */
export function batchFrameType(frame: Uint8Array): "batch" | "batches" {
  return frame[0] === BATCHES_TAG ? "batches" : "batch";
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
export function errorFrame(code: ErrorCode, message: string, clientSeq = 0, retryAfterMs = 0): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "error", value: { code, message, clientSeq, retryAfterMs } } }));
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
