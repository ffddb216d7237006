import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ClientFrameSchema } from "../gen/pixel/v1/realtime_pb.js";
import { scanPlace } from "./place-scan.js";

const encode = (clientSeq: number, pixels: { x: number; y: number; color: number }[]) =>
  toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "place", value: { clientSeq, pixels } } }));

describe("scanPlace", () => {
  it("reads what the generic decoder reads, zero values included", () => {
    const pixels = [{ x: 0, y: 0, color: 0 }, { x: 49, y: 3, color: 0xffffff }, { x: 1023, y: 1000, color: 0x123456 }];
    for (const clientSeq of [0, 1, 4294967295]) {
      const bytes = encode(clientSeq, pixels);
      const generic = fromBinary(ClientFrameSchema, bytes).frame;
      expect(generic.case).toBe("place");
      expect(scanPlace(bytes, 1000)).toEqual({ clientSeq, pixels });
    }
  });

  it("refuses an oversized Place before building its pixels", () => {
    const bytes = encode(1, Array.from({ length: 11 }, (_, i) => ({ x: i, y: 0, color: 1 })));
    expect(scanPlace(bytes, 10)).toEqual({ clientSeq: 1, tooMany: expect.stringMatching(/11 pixels; at most 10/) });
  });

  it("reports truncation and leaves frames that are not a lone Place to the generic decoder", () => {
    const bytes = encode(1, [{ x: 1, y: 2, color: 3 }]);
    const cut = Uint8Array.from(bytes.subarray(0, bytes.length - 1));
    cut[1] = cut.length - 2;
    expect(scanPlace(cut, 10)).toMatchObject({ malformed: expect.stringContaining("truncated") });
    expect(scanPlace(Uint8Array.from([0xff, 0xff]), 10)).toBeUndefined();
    const hello = toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: { canvasId: "x" } } }));
    expect(scanPlace(hello, 10)).toBeUndefined();
    expect(scanPlace(Buffer.concat([bytes, bytes]), 10)).toBeUndefined();
  });
});
