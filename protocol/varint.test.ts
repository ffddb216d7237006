import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { readTag, readUint32, readVarint, skipField, varintLength, WireCursor, writeUint32, writeVarint } from "./varint.js";

const at = (bytes: number[], pos = 0) => new WireCursor().reset(Uint8Array.from(bytes), pos);

describe("varint", () => {
  it("writes the bytes protobuf's writer writes, with the length varintLength predicts", () => {
    for (const value of [0, 1, 127, 128, 300, 16383, 16384, 0xffffffff, 2 ** 32, 1700000000123, Number.MAX_SAFE_INTEGER]) {
      const expected = new BinaryWriter().uint64(value).finish();
      const out = new Uint8Array(12);
      expect(writeVarint(out, 1, value)).toBe(1 + expected.length);
      expect(out.subarray(1, 1 + expected.length)).toEqual(expected);
      expect(varintLength(value)).toBe(expected.length);
      if (value <= 0xffffffff) {
        const out32 = new Uint8Array(6);
        expect(out32.subarray(0, writeUint32(out32, 0, value))).toEqual(new BinaryWriter().uint32(value).finish());
      }
    }
  });

  it("reads back what it wrote, exactly up to 2^53, and advances past it", () => {
    for (const value of [0, 1, 128, 0xffffffff, 1700000000123, Number.MAX_SAFE_INTEGER]) {
      const out = new Uint8Array(12);
      const end = writeVarint(out, 2, value);
      const c = new WireCursor().reset(out, 2);
      expect(readVarint(c)).toBe(value);
      expect(c.pos).toBe(end);
    }
  });

  it("returns -1 for a truncated varint and one longer than 10 bytes", () => {
    expect(readVarint(at([0x80, 0x80]))).toBe(-1);
    expect(readUint32(at([0xff]))).toBe(-1);
    expect(readVarint(at([...Array<number>(10).fill(0x80), 0x01]))).toBe(-1);
    expect(readUint32(at([...Array<number>(10).fill(0x80), 0x01]))).toBe(-1);
  });

  it("reads uint32 as protobuf does: low 32 bits, flagging any bit above them up to bit 63", () => {
    const c = at([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect([readUint32(c), c.overflow]).toEqual([0xffffffff, false]);
    const above = at([0x83, 0x80, 0x80, 0x80, 0x10]);
    expect([readUint32(above), above.overflow]).toEqual([3, true]);
    // x = 3 padded to 10 bytes fits; a tenth byte counts only its lowest bit (bit 63).
    const padded = at([0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
    expect([readUint32(padded), padded.overflow, padded.pos]).toEqual([3, false, 10]);
    const bit64 = at([0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]);
    expect([readUint32(bit64), bit64.overflow]).toEqual([3, false]);
    const bit63 = at([0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect([readUint32(bit63), bit63.overflow]).toEqual([3, true]);
    // The flag describes the last read only.
    expect([readUint32(bit63.reset(Uint8Array.from([0x05]))), bit63.overflow]).toEqual([5, false]);
  });

  it("skips fields of every skippable wire type and refuses groups and overruns", () => {
    const c = at([0x96, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x02, 0xaa, 0xbb, 1, 2, 3, 4]);
    expect(skipField(c, 0) && c.pos).toBe(2);
    expect(skipField(c, 1) && c.pos).toBe(10);
    expect(skipField(c, 2) && c.pos).toBe(13);
    expect(skipField(c, 5) && c.pos).toBe(17);
    expect(skipField(at([0x02, 0xaa]), 2)).toBe(false);
    expect(skipField(at([1, 2, 3]), 5)).toBe(false);
    expect(skipField(at([0x80]), 0)).toBe(false);
    expect(skipField(at([0x00]), 3)).toBe(false);
    expect(skipField(at([0x00]), 4)).toBe(false);
    // A skipped varint has no length limit, as in protobuf's generic skip.
    expect(skipField(at([...Array<number>(12).fill(0x80), 0x00]), 0)).toBe(true);
  });

  it("reads tags as protobuf-es does, rejecting field 0, wire types 6 and 7, and tags above uint32", () => {
    expect(readTag(at([0x12]))).toBe(0x12);
    // Field 2, wire type 2, padded to two bytes; field 16 needs two.
    expect(readTag(at([0x92, 0x00]))).toBe(0x12);
    expect(readTag(at([0x80, 0x01]))).toBe(0x80);
    expect(readTag(at([0x00]))).toBe(-1);
    expect(readTag(at([0x07]))).toBe(-1);
    expect(readTag(at([0x0e]))).toBe(-1);
    expect(readTag(at([0x80, 0x00]))).toBe(-1);
    expect(readTag(at([0xf8, 0xff, 0xff, 0xff, 0x0f]))).toBe(0xfffffff8);
    expect(readTag(at([0xf8, 0xff, 0xff, 0xff, 0x1f]))).toBe(-1);
    expect(readTag(at([0x8a, 0x80, 0x80, 0x80, 0x80, 0x00]))).toBe(-1);
    expect(readTag(at([0x8a]))).toBe(-1);
  });
});
