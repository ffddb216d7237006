import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { ClientFrameSchema } from "../gen/pixel/v1/realtime_pb.js";
import { scanPlace } from "./place-scan.js";
import { decodeWidePlace } from "./wide-place-decode.js";
import { mulberry32 } from "../tools/prng.js";

const random = mulberry32(0x5eed_0011);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

/** A uint32 biased towards the edges where encodings change length. */
function uint32(): number {
  return pick([0, 1, 127, 128, 16383, 16384, 0xffffff, 0x7fffffff, 0xffffffff, int(2 ** 32), int(64)]);
}

function varint(value: bigint): number[] {
  return [...new BinaryWriter().uint64(value).finish()];
}

function validPlace(): number[] {
  const pixels = Array.from({ length: int(5) }, () => ({ x: uint32(), y: uint32(), color: uint32() }));
  return [...toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "place", value: { clientSeq: uint32(), pixels } } }))];
}

/** Varints the wire must handle: above uint32, above 2^53, 10 bytes, and 11 (too long). */
function oddVarint(): number[] {
  switch (int(4)) {
    case 0:
      return varint(2n ** 32n + BigInt(int(1000)));
    case 1:
      return varint(2n ** 63n + BigInt(int(1000)));
    case 2:
      return [0x80 | int(128), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, int(2)];
    default:
      return [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
  }
}

/** One mutation of a frame: the damage a fuzzer or a faulty client does. */
function mutate(bytes: number[]): number[] {
  const out = [...bytes];
  const at = int(out.length + 1);
  switch (int(12)) {
    case 0: // bit flip
      if (out.length > 0) out[at % out.length]! ^= 1 << int(8);
      return out;
    case 1: // truncation
      return out.slice(0, at);
    case 2: // inserted byte
      out.splice(at, 0, int(256));
      return out;
    case 3: // removed byte
      out.splice(at, 1);
      return out;
    case 4: // field-number-0 tag with a varint
      out.splice(at, 0, 0x00, int(128));
      return out;
    case 5: // a tag byte given another wire type
      if (out.length > 0) out[at % out.length] = (out[at % out.length]! & ~7) | int(8);
      return out;
    case 6: // an unknown field of each wire type
      out.splice(at, 0, ...pick([[0x48, int(128)], [0x49, 1, 2, 3, 4, 5, 6, 7, 8], [0x4a, 2, 0x01, 0x02], [0x4d, 1, 2, 3, 4], [0x4b, 0x4c], [0x4c]]));
      return out;
    case 7: // a huge or overlong varint, often right after a tag
      out.splice(at, 0, ...oddVarint());
      return out;
    case 8: // a value replaced by a huge or overlong varint
      return [...out.slice(0, at), ...oddVarint(), ...out.slice(at + 1)];
    case 10: // a second Place field, which the decoder merges into the first (client_seq: last one wins)
      return [...out, ...mutatedOrNot(validPlace())];
    case 11: // a trailing field: unknown, a Ping, or a bare varint a truncated value may run into
      return [...out, ...pick([[0x48, ...oddVarint()], [0x22, 0x02, 0x08, int(128)], oddVarint(), [0x80 | int(128), 0x10]])];
    default: // a byte (often a tag or a length) re-encoded in two bytes
      if (out.length > 0) out.splice(at % out.length, 1, (out[at % out.length]! & 0x7f) | 0x80, out[at % out.length]! >> 7);
      return out;
  }
}

/** A Place frame as is, or with one of the byte-level mutations above (not the appending ones). */
function mutatedOrNot(frame: number[]): number[] {
  if (int(2) === 0) return frame;
  const out = [...frame];
  const at = int(out.length + 1);
  return [...out.slice(0, at), ...oddVarint(), ...out.slice(at + 1)];
}

type Verdict =
  | { kind: "malformed" }
  | { kind: "not-place" }
  | { kind: "above-uint32" }
  | { kind: "place"; value: { clientSeq: number; pixels: { x: number; y: number; color: number }[] } };

/** What the generated decoder makes of the bytes, with what it truncates told apart by the same decoder over uint64. */
function oracle(bytes: Uint8Array): Verdict {
  let frame;
  try {
    frame = fromBinary(ClientFrameSchema, bytes).frame;
  } catch {
    return { kind: "malformed" };
  }
  if (frame.case !== "place") return { kind: "not-place" };
  const wide = decodeWidePlace(bytes)!;
  const max = 0xffffffffn;
  if (wide.clientSeq > max || wide.pixels.some((p) => p.x > max || p.y > max || p.color > max)) return { kind: "above-uint32" };
  return { kind: "place", value: { clientSeq: frame.value.clientSeq, pixels: frame.value.pixels.map(({ x, y, color }) => ({ x, y, color })) } };
}

/**
 * scanPlace's answer in the oracle's terms. Undefined hands the frame to the generic decoder (as
 * the gateway does), which is right only for frames that are not a Place: that decoder would
 * truncate a Place's values.
 */
function scanned(bytes: Uint8Array, expected: Verdict): Verdict | { kind: "invalid"; message: string } | { kind: "deferred" } {
  const result = scanPlace(bytes, Number.MAX_SAFE_INTEGER);
  if (result === undefined) return expected.kind === "malformed" || expected.kind === "not-place" ? expected : { kind: "deferred" };
  if ("malformed" in result) return { kind: "malformed" };
  if ("invalid" in result) return result.invalid.includes("above uint32") ? { kind: "above-uint32" } : { kind: "invalid", message: result.invalid };
  return { kind: "place", value: result };
}

describe("scanPlace against the generated decoder", () => {
  it("agrees on accept/reject and on the pixels and client_seq of 20,000 random and mutated frames", () => {
    const seen = { malformed: 0, "not-place": 0, "above-uint32": 0, place: 0 };
    const disagreements: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let frame: number[];
      if (i % 10 === 0) frame = Array.from({ length: int(24) }, () => (int(3) === 0 ? 0x12 : int(256)));
      else {
        frame = validPlace();
        for (let m = 1 + int(3); m > 0; m--) frame = mutate(frame);
      }
      const bytes = Uint8Array.from(frame);
      const expected = oracle(bytes);
      seen[expected.kind]++;
      const actual = scanned(bytes, expected);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) disagreements.push(`${Buffer.from(bytes).toString("hex")}: decoder ${JSON.stringify(expected)}, scanner ${JSON.stringify(actual)}`);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    // Every kind of verdict was exercised, not just the easy ones.
    expect(seen.malformed).toBeGreaterThan(1000);
    expect(seen["not-place"]).toBeGreaterThan(100);
    expect(seen["above-uint32"]).toBeGreaterThan(100);
    expect(seen.place).toBeGreaterThan(1000);
  });

  it("refuses every Place holding a value above uint32 as invalid (INVALID_ARGUMENT), never as pixels", () => {
    let refused = 0;
    for (let i = 0; i < 2_000; i++) {
      // A valid Place with one of its values (client_seq or a pixel's x, y or color) widened past uint32.
      const pixels = Array.from({ length: 1 + int(3) }, () => [0x08, ...varint(BigInt(uint32())), 0x10, ...varint(BigInt(uint32())), 0x18, ...varint(BigInt(uint32()))]);
      const target = int(pixels.length + 1);
      const wide = varint(2n ** 32n + BigInt(int(2 ** 20)));
      const seq = target === pixels.length ? wide : varint(BigInt(uint32()));
      if (target < pixels.length) pixels[target] = [pick([0x08, 0x10, 0x18]), ...wide];
      const body = [0x08, ...seq, ...pixels.flatMap((p) => [0x12, p.length, ...p])];
      const bytes = Uint8Array.from([0x12, ...varint(BigInt(body.length)), ...body]);
      const result = scanPlace(bytes, 1000);
      if (result !== undefined && "invalid" in result && result.invalid.includes("above uint32")) refused++;
    }
    expect(refused).toBe(2_000);
  });
});
