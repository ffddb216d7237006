import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PixelSchema, type Pixel } from "../gen/pixel/v1/canvas_pb.js";
import {
  ClientFrameSchema,
  HelloSchema,
  PingSchema,
  PlaceSchema,
  ServerFrameSchema,
  SetNameSchema,
  WatchSchema,
  type ClientFrame,
  type ServerFrame,
} from "../gen/pixel/v1/realtime_pb.js";
import type { PixelLike } from "./pixel-validation.js";
import type { TileCoord } from "./tile-grid.js";
import { PIXEL_PROTOCOL } from "./tile-watch.js";


/** The result of decoding bytes from the wire: a frame, or a typed failure that never throws. */
export type DecodeResult<T> = { ok: true; frame: T } | { ok: false; error: string };

/** Encodes a ClientFrame (as built by the helpers below) to the bytes of one WebSocket message. */
export function encodeClientFrame(frame: ClientFrame): Uint8Array {
  return toBinary(ClientFrameSchema, frame);
}

/** Encodes a ServerFrame; used by fakes, tests and tools that play the gateway. */
export function encodeServerFrame(frame: ServerFrame): Uint8Array {
  return toBinary(ServerFrameSchema, frame);
}

/**
 * Decodes one WebSocket message into a ServerFrame. Text frames, garbage and an empty oneof
 * come back as failures so the socket loop can report them instead of dying.
 */
export function decodeServerFrame(data: Uint8Array | ArrayBuffer | string): DecodeResult<ServerFrame> {
  if (typeof data === "string") return { ok: false, error: "text frame: the protocol is binary protobuf only" };
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  try {
    const frame = fromBinary(ServerFrameSchema, bytes);
    // Protocol 3: a frame may hold only acks.
    if (frame.frame.case === undefined && frame.acks.length === 0) return { ok: false, error: `server frame of ${bytes.length} bytes has no known frame set and no acks` };
    return { ok: true, frame };
  } catch (err) {
    return { ok: false, error: `undecodable server frame of ${bytes.length} bytes: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** A decoded client frame (its set oneof case), or why it could not be decoded. */
export type DecodedClientFrame =
  | { ok: true; frame: Exclude<ClientFrame["frame"], { case: undefined }> }
  | { ok: false; message: string };

/**
 * Parses one WebSocket message from a client at the edge (the gateway, and fakes that play it).
 * Text frames, undecodable bytes and an empty oneof are all malformed; nothing here throws.
 */
export function decodeClientFrame(data: Uint8Array, isBinary = true): DecodedClientFrame {
  if (!isBinary) return { ok: false, message: "text frames are not accepted: send one binary pixel.v1.ClientFrame per message" };
  let decoded: ClientFrame;
  try {
    decoded = fromBinary(ClientFrameSchema, data);
  } catch (err) {
    return { ok: false, message: `not a pixel.v1.ClientFrame: ${(err as Error).message}` };
  }
  if (decoded.frame.case === undefined) return { ok: false, message: "the ClientFrame sets none of hello, place, set_name, ping, watch" };
  return { ok: true, frame: decoded.frame };
}

/** Builds a Hello frame speaking PIXEL_PROTOCOL. */
export function helloFrame(canvasId: string, name: string, lastSeq: bigint, lastEpoch: bigint): ClientFrame {
  return create(ClientFrameSchema, { frame: { case: "hello", value: create(HelloSchema, { canvasId, name, lastSeq, lastEpoch, protocol: PIXEL_PROTOCOL }) } });
}

/** Builds a Watch frame: these level-0 tiles replace the watched set; (afterSeq, afterEpoch) asks for a replay (0: none). */
export function watchFrame(tiles: readonly TileCoord[], afterSeq = 0n, afterEpoch = 0n): ClientFrame {
  return create(ClientFrameSchema, { frame: { case: "watch", value: create(WatchSchema, { tiles: tiles.map(({ tx, ty }) => ({ tx, ty })), afterSeq, afterEpoch }) } });
}

/** Builds a Place frame. */
export function placeFrame(clientSeq: number, pixels: readonly PixelLike[]): ClientFrame {
  const list: Pixel[] = pixels.map((p) => create(PixelSchema, { x: p.x, y: p.y, color: p.color }));
  return create(ClientFrameSchema, { frame: { case: "place", value: create(PlaceSchema, { clientSeq, pixels: list }) } });
}

/** Builds a SetName frame. */
export function setNameFrame(name: string): ClientFrame {
  return create(ClientFrameSchema, { frame: { case: "setName", value: create(SetNameSchema, { name }) } });
}

/** Builds a Ping frame. */
export function pingFrame(nonce: bigint): ClientFrame {
  return create(ClientFrameSchema, { frame: { case: "ping", value: create(PingSchema, { nonce }) } });
}
