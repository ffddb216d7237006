import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { encodeBatchBody, packPixelWrites, prefixSeqEpoch } from "./pixel-batch-codec.js";

describe("encodeBatchBody + prefixSeqEpoch", () => {
  it("decode as the PixelBatch protobuf-es would encode, for large seq and epoch", () => {
    const pixels = [{ x: 0, y: 0, color: 0 }, { x: 2047, y: 1, color: 0xffffff }, { x: 5, y: 2047, color: 0x123456 }];
    const seq = 2 ** 40 + 3;
    const epoch = 1_795_307_669_293;
    const bytes = prefixSeqEpoch(encodeBatchBody("my-canvas", pixels, "Zoë", 1_700_000_000_123), seq, epoch);
    const decoded = fromBinary(PixelBatchSchema, bytes);
    const expected = create(PixelBatchSchema, { canvasId: "my-canvas", seq: BigInt(seq), epoch: BigInt(epoch), pixels, author: "Zoë", timeUnixMs: 1_700_000_000_123n });
    expect(decoded).toEqual(fromBinary(PixelBatchSchema, toBinary(PixelBatchSchema, expected)));
  });

  it("encodes an epoch marker (no pixels, no author) that decodes with seq 0", () => {
    const decoded = fromBinary(PixelBatchSchema, prefixSeqEpoch(encodeBatchBody("default", [], "", 5), 0, 7));
    expect(decoded.seq).toBe(0n);
    expect(decoded.epoch).toBe(7n);
    expect(decoded.pixels).toHaveLength(0);
    expect(decoded.canvasId).toBe("default");
  });
});

describe("packPixelWrites", () => {
  it("packs each pixel as a run: byte offset (3 bytes), count (2 bytes), then R, G, B", () => {
    const packed = packPixelWrites([{ x: 3, y: 2, color: 0xa1b2c3 }, { x: 0, y: 0, color: 0x010203 }], 10, 10);
    const offset = (2 * 10 + 3) * 3;
    expect([...packed]).toEqual([0, 0, 0, 0, 1, 1, 2, 3, 0, 0, offset, 0, 1, 0xa1, 0xb2, 0xc3]);
  });

  it("merges adjacent pixels into one run and keeps the last colour of a repeated pixel", () => {
    const packed = packPixelWrites([{ x: 5, y: 1, color: 0x050505 }, { x: 4, y: 1, color: 0x040404 }, { x: 5, y: 1, color: 0x0a0a0a }, { x: 6, y: 1, color: 0x060606 }], 10, 10);
    const offset = (1 * 10 + 4) * 3;
    expect([...packed]).toEqual([0, 0, offset, 0, 3, 4, 4, 4, 10, 10, 10, 6, 6, 6]);
  });

  it("refuses a pixel outside the canvas instead of writing elsewhere", () => {
    expect(() => packPixelWrites([{ x: 10, y: 0, color: 1 }], 10, 10)).toThrow(RangeError);
  });
});
