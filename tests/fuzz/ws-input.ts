import { mutate } from "./byte-mutation.js";
import { inputPrng, type Prng } from "../../tools/prng.js";
import { lenField, overlongVarint, pixelBody, placeBody, placeFrame, tag, varint, varintField, WT, type RawPixel } from "./wire-writer.js";

/** The kinds of /ws input the fuzzer sends. */
export const WS_INPUT_KINDS = ["valid", "random", "mutated", "boundary"] as const;
export type WsInputKind = (typeof WS_INPUT_KINDS)[number];

/** One generated /ws message. */
export interface WsInput {
  index: number;
  kind: WsInputKind;
  /** Which generator made it (the boundary case, or the mutations applied). */
  label: string;
  bytes: Uint8Array;
  isBinary: boolean;
  /** The client_seq the generator wrote, if it built a Place (a mutation may have changed it). */
  intendedSeq?: number;
}

/** Canvas size the inputs aim at: valid Places paint rows [0, height/2), the rest aims at the rows below. */
export interface WsLayout {
  width: number;
  height: number;
}

/** Inputs per run at most: each input's colour ((index + 1) as 0xRRGGBB) names it on the canvas. */
export const MAX_WS_INPUTS = 0xfffffe;

/** The colour every pixel of input `index` carries, so a pixel on the canvas tells which input painted it. */
export function colourOf(index: number): number {
  return index + 1;
}

/** The input a pixel of colour `color` came from, when that colour is one of the inputs' own. */
export function inputOfColour(color: number, inputs: number): number | undefined {
  return color >= 1 && color <= inputs ? color - 1 : undefined;
}

/** Hex of the first `max` bytes, for failure messages. */
export function hex(bytes: Uint8Array, max = 48): string {
  const head = Buffer.from(bytes.subarray(0, max)).toString("hex").replace(/(..)/g, "$1 ").trim();
  return bytes.length > max ? `${head} … (${bytes.length} bytes)` : head;
}

/** A short description of an input: number, kind, label and bytes. */
export function describeInput(input: WsInput): string {
  return `frame #${input.index} (${input.kind}: ${input.label}${input.isBinary ? "" : ", text"}): bytes ${hex(input.bytes)}`;
}

const STREAM_WS = 1;

/** Input number `index` of the run with `seed`; the same on every call. */
export function generateWsInput(seed: number, index: number, layout: WsLayout): WsInput {
  const rng = inputPrng(seed, index, STREAM_WS);
  const roll = rng.int(100);
  const make = (kind: WsInputKind, label: string, bytes: Uint8Array | number[], isBinary = true): WsInput => ({
    index, kind, label, bytes: Uint8Array.from(bytes), isBinary, intendedSeq: kind === "random" ? undefined : index + 1,
  });
  const color = colourOf(index);
  if (roll < 40) {
    const n = rng.chance(0.05) ? rng.between(9, 64) : rng.between(1, 8);
    const pixels = Array.from({ length: n }, () => ({ x: rng.int(layout.width), y: rng.int(Math.floor(layout.height / 2)), color }));
    return make("valid", `${n} pixels`, placeFrame(index + 1, pixels));
  }
  if (roll < 55) return randomInput(rng, make);
  if (roll < 85) {
    const base = Array.from(placeFrame(index + 1, lowerPixels(rng, layout, rng.between(1, 6), color)));
    const names: string[] = [];
    const rounds = rng.between(1, 3);
    for (let i = 0; i < rounds; i++) names.push(mutate(rng, base));
    return make("mutated", names.join("+"), base);
  }
  const [label, bytes, isBinary] = boundaryInput(rng, layout, index + 1, color);
  return make("boundary", label, bytes, isBinary);
}

/** Pixels in the lower half, where no valid generated Place paints. */
function lowerPixels(rng: Prng, layout: WsLayout, n: number, color: number): RawPixel[] {
  const top = Math.floor(layout.height / 2);
  return Array.from({ length: n }, () => ({ x: rng.int(layout.width), y: top + rng.int(layout.height - top), color }));
}

function randomInput(rng: Prng, make: (kind: WsInputKind, label: string, bytes: Uint8Array | number[], isBinary?: boolean) => WsInput): WsInput {
  const length = rng.chance(0.1) ? rng.between(65, 1024) : rng.between(0, 64);
  if (rng.chance(0.1)) {
    const text = Array.from({ length }, () => 0x20 + rng.int(0x5f));
    return make("random", `${length} printable bytes`, text, false);
  }
  const body = rng.bytes(length);
  if (rng.chance(0.4)) return make("random", `Place tag + ${length} random bytes`, [0x12, ...varint(length), ...body]);
  return make("random", `${length} random bytes`, body);
}

const BIG = {
  u32max: 0xffff_ffffn,
  u32plus3: 0x1_0000_0003n,
  u32plus5: 0x1_0000_0005n,
  u64max: 0xffff_ffff_ffff_ffffn,
};

/** One hand-made edge case: [label, bytes, isBinary]. */
function boundaryInput(rng: Prng, layout: WsLayout, clientSeq: number, color: number): [string, number[], boolean] {
  const { width: w, height: h } = layout;
  const [p] = lowerPixels(rng, layout, 1, color) as [RawPixel];
  const place = (pixels: RawPixel[], seq: number | bigint = clientSeq) => Array.from(placeFrame(seq, pixels));
  const withPixelBody = (body: number[]) => lenField(2, placeBody(clientSeq, [body]));
  switch (rng.int(32)) {
    case 0: return ["corner pixels", place([{ x: w - 1, y: h - 1, color }, { x: 0, y: h - 1, color }]), true];
    case 1: return ["x = width", place([{ ...p, x: w }]), true];
    case 2: return ["y = height", place([{ ...p, y: h }]), true];
    case 3: return ["x = 2^32-1", place([{ ...p, x: BIG.u32max }]), true];
    case 4: return ["colour = 0x1000000", place([{ ...p, color: 0x1000000 }]), true];
    case 5: return ["colour = 2^32-1", place([{ ...p, color: BIG.u32max }]), true];
    case 6: return ["x = 2^32+3", place([{ ...p, x: BIG.u32plus3 }]), true];
    case 7: return ["x = 2^32+3 with a trailing ClientFrame field", [...place([{ ...p, x: BIG.u32plus3 }]), ...varintField(15, 1)], true];
    case 8: return ["y = 2^64-1", place([{ ...p, y: BIG.u64max }]), true];
    case 9: return ["client_seq = 2^32+5", place([p], BIG.u32plus5), true];
    case 10: return ["colour = 2^32 + colour", place([{ ...p, color: 0x1_0000_0000n + BigInt(color) }]), true];
    case 11: {
      // Field number 0 is illegal: the generated decoder rejects it.
      const body = pixelBody(p);
      const at = rng.int(body.length + 1);
      body.splice(at, 0, 0x00, rng.int(0x80));
      return [`field-0 tag inside a pixel @${at}`, withPixelBody(body), true];
    }
    case 12: return ["empty Place", lenField(2, varintField(1, clientSeq)), true];
    case 13: return ["1001 pixels", place(lowerPixels(rng, layout, 1001, color)), true];
    case 14: return ["1000 pixels", place(lowerPixels(rng, layout, 1000, color)), true];
    case 15: {
      const body = [...tag(1, WT.varint), ...overlongVarint(Number(p.x), 10), ...tag(2, WT.varint), ...overlongVarint(Number(p.y), 10), ...tag(3, WT.varint), ...overlongVarint(color, 10)];
      return ["10-byte varints", withPixelBody(body), true];
    }
    case 16: return ["11-byte varint", withPixelBody([...tag(1, WT.varint), ...overlongVarint(1, 10).map((b, i) => (i === 9 ? 0x80 : b)), 0x00]), true];
    case 17: return ["truncated Place", place([p, p]).slice(0, -2), true];
    case 18: return ["Place length beyond the frame", [0x12, 0x7f, ...placeBody(clientSeq, [pixelBody(p)])], true];
    case 19: return ["empty frame", [], true];
    case 20: return ["Ping with nonce 2^64-1", lenField(4, varintField(1, BIG.u64max)), true];
    case 21: return ["SetName of 33 characters", lenField(3, lenField(1, Buffer.from("x".repeat(33)))), true];
    case 22: return ["SetName of 32 characters", lenField(3, lenField(1, Buffer.from("é".repeat(32)))), true];
    case 23: return ["Hello with a malformed canvas id", lenField(1, [...lenField(1, Buffer.from("Not A Canvas!")), ...varintField(5, 2)]), true];
    case 24: return ["two Place fields in one frame", [...place([p]), ...place(lowerPixels(rng, layout, 1, color))], true];
    case 25: return ["unknown varint field in a pixel", withPixelBody([...pixelBody(p), ...varintField(9, 7)]), true];
    case 26: return ["x as fixed32", withPixelBody([...tag(1, WT.fixed32), 1, 0, 0, 0, ...varintField(2, p.y), ...varintField(3, color)]), true];
    case 27: return ["only an unknown ClientFrame field", varintField(9, 1), true];
    case 28: return ["text frame", Array.from(Buffer.from("{\"place\":{\"pixels\":[]}}")), false];
    case 29: return ["group inside a pixel", withPixelBody([...tag(5, WT.startGroup), ...tag(5, WT.endGroup), ...pixelBody(p)]), true];
    case 30: return ["x = 2^32+3 in a second Place field", [...place([p]), ...place([{ ...p, x: BIG.u32plus3 }])], true];
    default: return ["zero-length pixel", withPixelBody([]), true];
  }
}
