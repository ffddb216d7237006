import { fromBinary } from "@bufbuild/protobuf";
import { ClientFrameSchema, ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { MAX_WATCHED_TILES, MIN_PIXEL_PROTOCOL } from "../../protocol/tile-watch.js";
import { findUint32Overflow } from "./place-wire-scan.js";

/** Documented rules the oracle checks a Place and a Watch against (from the Welcome and realtime.proto). */
export interface CanvasRules {
  width: number;
  height: number;
  maxPixelsPerPlace: number;
  /** The level-0 tile grid (Welcome.tile_size): a Watch may name only these tiles. */
  columns: number;
  rows: number;
}

/** One decoded pixel. */
export interface Px {
  x: number;
  y: number;
  color: number;
}

/** What the gateway must answer to one frame, by the documented protocol. */
export type Expectation =
  /** A valid Place on a joined socket: an Ack (stored) or a documented refusal that stored nothing. */
  | { kind: "ack"; clientSeq: number; pixels: Px[] }
  /** An Error with one of `codes`; `clientSeq` is checked when set. */
  | { kind: "error"; codes: ErrorCode[]; clientSeq: number | undefined; why: string; placeSeq: number | undefined }
  | { kind: "pong"; nonce: bigint }
  /** A Hello that joins: a Welcome. */
  | { kind: "welcome" }
  /** A valid Watch on a joined socket: a Watching (after any replayed batches, which are not judged). */
  | { kind: "watching" }
  /** A valid SetName: no answer. */
  | { kind: "silent" }
  /** Not sent: its answer is not determined by the documented protocol alone (see `why`). */
  | { kind: "skip"; why: string };

const NAME_MAX = 32;
const CANVAS_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_COLOR = 0xffffff;

/**
 * Decides the answer a frame must get, using the generated decoder (`fromBinary(ClientFrameSchema)`)
 * as the reference: anything it rejects is MALFORMED_FRAME; a Place with a varint above uint32 in a
 * uint32 field is INVALID_ARGUMENT (the decoder would truncate it); out-of-range pixels, colours
 * and sizes are INVALID_ARGUMENT; a Place, SetName or Watch before Hello is NOT_JOINED; a Watch
 * naming a tile outside the canvas or more than MAX_WATCHED_TILES tiles is INVALID_ARGUMENT.
 */
export function expectAnswer(bytes: Uint8Array, isBinary: boolean, joined: boolean, rules: CanvasRules): Expectation {
  const malformed = (why: string): Expectation => ({ kind: "error", codes: [ErrorCode.MALFORMED_FRAME], clientSeq: undefined, why, placeSeq: undefined });
  if (!isBinary) return malformed("text frame");
  let frame;
  try {
    frame = fromBinary(ClientFrameSchema, bytes).frame;
  } catch (err) {
    return malformed(`the generated decoder rejects it: ${(err as Error).message}`);
  }
  switch (frame.case) {
    case undefined:
      return malformed("sets none of hello, place, set_name, ping, watch");
    case "ping":
      return { kind: "pong", nonce: frame.value.nonce };
    case "hello": {
      // Refused with UNSUPPORTED_PROTOCOL and closed with 4006 whatever else it says, which ends the session.
      if (frame.value.protocol < MIN_PIXEL_PROTOCOL) return { kind: "skip", why: `a Hello of protocol ${frame.value.protocol} closes the socket (4006)` };
      // A malformed canvas id is refused without touching the session; any other Hello re-joins.
      const id = frame.value.canvasId === "" ? "default" : frame.value.canvasId;
      if (CANVAS_ID.test(id)) return { kind: "skip", why: "a Hello for a well-formed canvas id would re-join" };
      return { kind: "error", codes: [ErrorCode.NOT_FOUND, ErrorCode.INVALID_ARGUMENT], clientSeq: undefined, why: `Hello for malformed canvas id ${JSON.stringify(id.slice(0, 40))}`, placeSeq: undefined };
    }
    case "setName": {
      const name = frame.value.name;
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(name)) return { kind: "skip", why: "a name with control characters is not covered by the documented rules" };
      if (!joined) return { kind: "error", codes: [ErrorCode.NOT_JOINED], clientSeq: undefined, why: "SetName before Hello", placeSeq: undefined };
      if ([...name].length > NAME_MAX) return { kind: "error", codes: [ErrorCode.INVALID_ARGUMENT], clientSeq: undefined, why: `name of ${[...name].length} characters`, placeSeq: undefined };
      return { kind: "silent" };
    }
    case "place": {
      const { clientSeq, pixels } = frame.value;
      const overflow = findUint32Overflow(bytes);
      const problem = overflow.known !== undefined ? `a varint above uint32 (${overflow.known})` : placeProblem(pixels, rules);
      if (problem === undefined && overflow.unknown !== undefined) return { kind: "skip", why: `a valid Place with an unknown field above uint32 (${overflow.unknown})` };
      if (clientSeq === 0) return { kind: "skip", why: "client_seq 0 cannot be told apart from frame-level errors" };
      const echo = overflow.known?.startsWith("client_seq") ? undefined : clientSeq;
      if (!joined) {
        const codes = problem === undefined ? [ErrorCode.NOT_JOINED] : [ErrorCode.NOT_JOINED, ErrorCode.INVALID_ARGUMENT];
        return { kind: "error", codes, clientSeq: echo, why: `Place before Hello${problem ? ` with ${problem}` : ""}`, placeSeq: clientSeq };
      }
      if (problem !== undefined) return { kind: "error", codes: [ErrorCode.INVALID_ARGUMENT], clientSeq: echo, why: problem, placeSeq: clientSeq };
      return { kind: "ack", clientSeq, pixels: pixels.map((p) => ({ x: p.x, y: p.y, color: p.color })) };
    }
    case "watch": {
      if (!joined) return { kind: "error", codes: [ErrorCode.NOT_JOINED], clientSeq: undefined, why: "Watch before Hello", placeSeq: undefined };
      const problem = watchProblem(frame.value.tiles, rules);
      if (problem !== undefined) return { kind: "error", codes: [ErrorCode.INVALID_ARGUMENT], clientSeq: undefined, why: problem, placeSeq: undefined };
      return { kind: "watching" };
    }
  }
}

function watchProblem(tiles: readonly { tx: number; ty: number }[], rules: CanvasRules): string | undefined {
  const distinct = new Set<number>();
  for (const { tx, ty } of tiles) {
    if (tx >= rules.columns || ty >= rules.rows) return `tile ${tx}:${ty} outside the ${rules.columns}x${rules.rows} tiles`;
    distinct.add(ty * rules.columns + tx);
  }
  return distinct.size > MAX_WATCHED_TILES ? `${distinct.size} tiles (at most ${MAX_WATCHED_TILES})` : undefined;
}

function placeProblem(pixels: readonly Px[], rules: CanvasRules): string | undefined {
  if (pixels.length === 0) return "no pixels";
  if (pixels.length > rules.maxPixelsPerPlace) return `${pixels.length} pixels (at most ${rules.maxPixelsPerPlace})`;
  for (const [i, p] of pixels.entries()) {
    if (p.x >= rules.width || p.y >= rules.height) return `pixel ${i} at (${p.x},${p.y}) outside ${rules.width}x${rules.height}`;
    if (p.color > MAX_COLOR) return `pixel ${i} colour 0x${p.color.toString(16)}`;
  }
  return undefined;
}
