import { create, toBinary } from "@bufbuild/protobuf";
import { ErrorCode, ServerFrameSchema, WelcomeSchema, type Welcome } from "../gen/pixel/v1/realtime_pb.js";
import { toColumnsBatch } from "./pixel-columns.js";
import { readUint32, varintLength, WireCursor, writeVarint } from "./varint.js";
import { ACK_CLIENT_SEQ_TAG, ACK_FRAME_TAG, ACK_SEQ_TAG, ACKS_ELEMENT_TAG, BATCH_FRAME_TAG, BATCHES_FRAME_TAG, BATCHES_ITEM_TAG, WELCOME_CONNECTION_ID_TAG, WELCOME_FRAME_TAG } from "./wire-tags.js";

/**
 * Server-side framing (uses Node's Buffer; the web app never imports it): the frames a gateway
 * sends, built once and sent as-is to every socket.
 */

/** One cursor for the frames read here: reads are synchronous, so it is never shared by two at once. */
const cursor = new WireCursor();

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
  return embed(BATCH_FRAME_TAG, pixelBatch);
}

/**
 * The same batch frame for a socket of pixel protocol 4: its PixelBatch with the pixels moved into
 * PixelBatch.columns (pixel-columns.ts). Takes and returns `ServerFrame{batch}` frames.
 */
export function columnsBatchFrame(frame: Buffer): Buffer {
  const c = cursor.reset(frame, 1);
  const length = frame[0] === BATCH_FRAME_TAG ? readUint32(c) : -1;
  if (length < 0 || c.pos + length !== frame.length) throw new Error("columnsBatchFrame takes one ServerFrame{batch} frame");
  return embed(BATCH_FRAME_TAG, toColumnsBatch(frame.subarray(c.pos)));
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
  out[0] = BATCHES_FRAME_TAG;
  let offset = writeVarint(out, 1, bodyLength);
  for (const frame of batchFrames) {
    if (frame[0] !== BATCH_FRAME_TAG) throw new Error("coalescedFrame takes ServerFrame{batch} frames only");
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
  return frame[0] === BATCHES_FRAME_TAG ? "batches" : "batch";
}

/** The parts of a Welcome shared by every connection of a room at one seq (protocol 2: never pixels, never resumed). */
export type WelcomeFields = Pick<Welcome, "canvasId" | "width" | "height" | "seq" | "epoch" | "maxPixelsPerPlace" | "pixelsPerSecond" | "tileSize" | "levelCount" | "protocol">;

/**
 * Encodes the connection-independent part of a Welcome once, so a room can cache it
 * and each connection only appends its id.
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
  welcome[body.length] = WELCOME_CONNECTION_ID_TAG;
  const offset = writeVarint(welcome, body.length + 1, id.length);
  id.copy(welcome, offset);
  return embed(WELCOME_FRAME_TAG, welcome);
}

/**
 * Writes `tag`, then an embedded Ack {client_seq, seq}, exactly as toBinary would (zero fields
 * left out): the gateway sends one per Place, so it builds them without creating messages.
 * Returns undefined for a seq beyond 2^53, which the caller encodes the generic way.
 */
function embeddedAck(tag: number, clientSeq: number, seq: bigint): Buffer | undefined {
  if (seq > MAX_SAFE_SEQ) return undefined;
  const s = Number(seq);
  const bodyLength = (clientSeq !== 0 ? 1 + varintLength(clientSeq) : 0) + (s !== 0 ? 1 + varintLength(s) : 0);
  const out = Buffer.allocUnsafe(1 + varintLength(bodyLength) + bodyLength);
  out[0] = tag;
  let o = writeVarint(out, 1, bodyLength);
  if (clientSeq !== 0) {
    out[o++] = ACK_CLIENT_SEQ_TAG;
    o = writeVarint(out, o, clientSeq);
  }
  if (s !== 0) {
    out[o++] = ACK_SEQ_TAG;
    writeVarint(out, o, s);
  }
  return out;
}

const MAX_SAFE_SEQ = BigInt(Number.MAX_SAFE_INTEGER);

/** Encodes `ServerFrame{ack}`. */
export function ackFrame(clientSeq: number, seq: bigint): Uint8Array {
  return embeddedAck(ACK_FRAME_TAG, clientSeq, seq) ?? toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "ack", value: { clientSeq, seq } } }));
}

/**
 * Encodes one element of `ServerFrame.acks` (protocol 3). Appended to any encoded ServerFrame it
 * adds that ack to the frame (protobuf merges concatenated encodings, and `acks` is outside the
 * `frame` oneof); elements alone make a frame holding only acks.
 */
export function acksElement(clientSeq: number, seq: bigint): Buffer {
  return embeddedAck(ACKS_ELEMENT_TAG, clientSeq, seq) ?? Buffer.from(toBinary(ServerFrameSchema, create(ServerFrameSchema, { acks: [{ clientSeq, seq }] })));
}

/** Encodes `ServerFrame{error}`. */
export function errorFrame(code: ErrorCode, message: string, clientSeq = 0, retryAfterMs = 0): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "error", value: { code, message, clientSeq, retryAfterMs } } }));
}

/** Encodes `ServerFrame{watching}`. */
export function watchingFrame(seq: bigint, epoch: bigint, replayed: boolean): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "watching", value: { seq, epoch, replayed } } }));
}

/** Encodes `ServerFrame{pong}` with the gateway's clock. */
export function pongFrame(nonce: bigint, now: number = Date.now()): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "pong", value: { nonce, serverTimeUnixMs: BigInt(now) } } }));
}

/** Encodes `ServerFrame{presence}`. */
export function presenceFrame(online: number, names: readonly string[]): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "presence", value: { online, names: [...names] } } }));
}
