import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ClientFrameSchema } from "../gen/pixel/v1/realtime_pb.js";
import { scanPlace } from "./place-scan.js";

const encode = (clientSeq: number, pixels: { x: number; y: number; color: number }[]) =>
  toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "place", value: { clientSeq, pixels } } }));

/** A Place frame written byte by byte: `pixels` are the raw bodies of its Pixel messages. */
function rawPlace(clientSeq: number[], ...pixels: number[][]): Uint8Array {
  const body = [...(clientSeq.length > 0 ? [0x08, ...clientSeq] : []), ...pixels.flatMap((p) => [0x12, p.length, ...p])];
  return Uint8Array.from([0x12, body.length, ...body]);
}

/** The generic decoder's pixels, as plain objects. */
function decodedPlace(bytes: Uint8Array) {
  const frame = fromBinary(ClientFrameSchema, bytes).frame;
  if (frame.case !== "place") throw new Error(`decoded ${frame.case}, not a place`);
  return { clientSeq: frame.value.clientSeq, pixels: frame.value.pixels.map(({ x, y, color }) => ({ x, y, color })) };
}

/** x = 2^32 + 3 as a varint: the generic decoder truncates it to 3. */
const X_ABOVE_UINT32 = [0x83, 0x80, 0x80, 0x80, 0x10];

describe("scanPlace", () => {
  it("reads what the generic decoder reads, zero values included", () => {
    const pixels = [{ x: 0, y: 0, color: 0 }, { x: 49, y: 3, color: 0xffffff }, { x: 1023, y: 1000, color: 0x123456 }];
    for (const clientSeq of [0, 1, 4294967295]) {
      const bytes = encode(clientSeq, pixels);
      expect(decodedPlace(bytes)).toEqual({ clientSeq, pixels });
      expect(scanPlace(bytes, 1000)).toEqual({ clientSeq, pixels });
    }
  });

  it("refuses an oversized Place as invalid, with its client_seq", () => {
    const bytes = encode(1, Array.from({ length: 11 }, (_, i) => ({ x: i, y: 0, color: 1 })));
    expect(scanPlace(bytes, 10)).toEqual({ clientSeq: 1, invalid: expect.stringMatching(/11 pixels; at most 10/) });
  });

  it("reports truncation, leaves Hello, SetName and Ping to the generic decoder, and merges repeated Places as it does", () => {
    const bytes = encode(1, [{ x: 1, y: 2, color: 3 }]);
    const cut = Uint8Array.from(bytes.subarray(0, bytes.length - 1));
    cut[1] = cut.length - 2;
    expect(scanPlace(cut, 10)).toMatchObject({ malformed: expect.stringContaining("truncated") });
    expect(scanPlace(Uint8Array.from([0xff, 0xff]), 10)).toBeUndefined();
    const hello = toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: { canvasId: "x" } } }));
    expect(scanPlace(hello, 10)).toBeUndefined();
    const twice = Buffer.concat([bytes, encode(2, [{ x: 4, y: 5, color: 6 }])]);
    expect(scanPlace(twice, 10)).toEqual(decodedPlace(twice));
    expect(scanPlace(twice, 10)).toEqual({ clientSeq: 2, pixels: [{ x: 1, y: 2, color: 3 }, { x: 4, y: 5, color: 6 }] });
  });

  it("rejects a field-number-0 tag inside a pixel, as the generic decoder does (issue 11: it was skipped, storing x=0)", () => {
    // Pixel{x: 5, y: 2, color: 7} with x's tag 0x08 flipped to 0x00.
    const bytes = rawPlace([1], [0x00, 0x05, 0x10, 0x02, 0x18, 0x07]);
    expect(() => fromBinary(ClientFrameSchema, bytes)).toThrow(/field no 0/);
    expect(scanPlace(bytes, 10)).toMatchObject({ malformed: expect.any(String) });
  });

  it("refuses x = 2^32 + 3 as invalid on every path instead of storing x = 3 (issue 11)", () => {
    const lone = rawPlace([7], [0x08, ...X_ABOVE_UINT32, 0x10, 0x01]);
    expect(decodedPlace(lone).pixels[0]!.x).toBe(3);
    expect(scanPlace(lone, 10)).toEqual({ clientSeq: 7, invalid: "pixel 0 has a value above uint32" });
    // The frames that used to take the generic decoder: a trailing unknown field, and a Hello before the Place.
    const trailing = Buffer.concat([lone, Uint8Array.from([0x78, 0x01])]);
    expect(decodedPlace(trailing).pixels[0]!.x).toBe(3);
    expect(scanPlace(trailing, 10)).toEqual({ clientSeq: 7, invalid: "pixel 0 has a value above uint32" });
    const afterHello = Buffer.concat([Uint8Array.from([0x0a, 0x00]), lone]);
    expect(decodedPlace(afterHello).pixels[0]!.x).toBe(3);
    expect(scanPlace(afterHello, 10)).toEqual({ clientSeq: 7, invalid: "pixel 0 has a value above uint32" });
    // client_seq above uint32 cannot be echoed back, so the refusal carries 0.
    expect(scanPlace(rawPlace(X_ABOVE_UINT32, [0x08, 0x01]), 10)).toEqual({ clientSeq: 0, invalid: "the Place's client_seq is above uint32" });
    expect(scanPlace(Buffer.concat([Uint8Array.from([0x0a, 0x00]), rawPlace(X_ABOVE_UINT32, [0x08, 0x01])]), 10)).toEqual({ clientSeq: 0, invalid: "the Place's client_seq is above uint32" });
  });

  it("accepts overlong encodings of values that fit, as the generic decoder does", () => {
    // x = 3 in 10 bytes, and y = 2^32 - 1 in 5.
    const bytes = rawPlace([1], [0x08, 0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x10, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(scanPlace(bytes, 10)).toEqual({ clientSeq: 1, pixels: [{ x: 3, y: 4294967295, color: 0 }] });
    expect(scanPlace(bytes, 10)).toEqual(decodedPlace(bytes));
  });

  it("follows the decoder on the 1M-frame fuzz run's seven frames: a value it overwrites does not count, one it reads past a message's end does", () => {
    const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
    // A value above uint32 that a later client_seq, or a later color in the same pixel, replaces: the decoder keeps only the later one.
    for (const h of [
      "122208d0dfd0df1208080d1018d0df0d12080823104318d0df0d12080842107e18d0df0d",
      "123608b3d418123608b3d41812080800105f18b3d4181208083d106218b3f3d41812080876105818b3d41812080853105e18b3d4b3d41812080835105518b3d418",
      "124008a2a2a2a21b12080839106418a2a21b12080839105918a2a200201b12080867106f18a2a21b1208080d106a18a2a21b9208083c104a18a2a21b12080858106d18a2a21b",
      "124008a9b63212080865105218a9b63212280858105d18a9b6a9b63212080879104618a9b63212080823104f18a9b63212080839105e18a9b6321208084c105818a9b632",
    ]) {
      expect(scanPlace(hex(h), 64)).toEqual(decodedPlace(hex(h)));
    }
    // A color varint that runs past its pixel's (and Place's) end into the next bytes, which the decoder reads as one value above uint32.
    for (const h of [
      "120e08e1d71012080806106218f0e1d78310",
      "124008ca82301208081e106d18ca823012080808104518ca823012080860104f18ca82301208084d107d18ca82301208087c104918ca823012080842107118ca82ca8230",
      "124008bb84301208081d104e18bb84301208087b104e18bb843012080831106a18bb843012080836105d18bb84301208083f107718bb84301208085d107a18bb84bb8430",
    ]) {
      expect(scanPlace(hex(h), 64)).toMatchObject({ invalid: expect.stringMatching(/^pixel \d has a value above uint32$/) });
    }
  });
});
