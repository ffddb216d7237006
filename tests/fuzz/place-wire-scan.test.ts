import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ClientFrameSchema } from "../../gen/pixel/v1/realtime_pb.js";
import { decodeWidePlace } from "../../protocol/wide-place-decode.js";
import { mutate } from "./byte-mutation.js";
import { findUint32Overflow } from "./place-wire-scan.js";
import { inputPrng } from "../../tools/prng.js";
import { generateWsInput } from "./ws-input.js";
import { placeFrame, varint, varintField } from "./wire-writer.js";

const UINT32_MAX = 0xffff_ffffn;

/** Whether the decoder over uint64 fields keeps a client_seq, x, y or color above uint32: the product's wide path. */
function wideOverflow(bytes: Uint8Array): boolean | undefined {
  try {
    fromBinary(ClientFrameSchema, bytes);
  } catch {
    return undefined;
  }
  const place = decodeWidePlace(bytes);
  if (!place) return undefined;
  return place.clientSeq > UINT32_MAX || place.pixels.some((p) => p.x > UINT32_MAX || p.y > UINT32_MAX || p.color > UINT32_MAX);
}

describe("findUint32Overflow", () => {
  it("finds a value above uint32 exactly when the decoder keeps one, on fuzz inputs with a second Place or a trailing field appended", () => {
    const disagreements: string[] = [];
    let places = 0;
    let overflows = 0;
    for (let i = 0; i < 20_000; i++) {
      const rng = inputPrng(0x0f00d, i, 9);
      const bytes = [...generateWsInput(0x5eed, i, { width: 128, height: 128 }).bytes];
      const second = [...placeFrame(rng.int(2) === 0 ? 2n ** 32n + BigInt(rng.int(99)) : rng.int(99), [{ x: rng.int(9), y: rng.int(9), color: rng.int(9) }])];
      if (rng.int(2) === 0) mutate(rng, second);
      const tail = [second, varintField(15, 2n ** 33n), varint(2n ** 40n), [0x80 | rng.int(128), 0x10]][rng.int(4)]!;
      const frame = Uint8Array.from(rng.int(4) === 0 ? bytes : [...bytes, ...tail]);
      const expected = wideOverflow(frame);
      if (expected === undefined) continue;
      places++;
      if (expected) overflows++;
      const found = findUint32Overflow(frame).known !== undefined;
      if (found !== expected) disagreements.push(`${Buffer.from(frame).toString("hex")}: decoder ${expected}, oracle ${found}`);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(places).toBeGreaterThan(5_000);
    expect(overflows).toBeGreaterThan(500);
  });
});
