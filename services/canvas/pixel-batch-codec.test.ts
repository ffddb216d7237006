import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { encodeBatchBody, prefixSeqEpoch } from "./pixel-batch-codec.js";

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

  it("encodes authorship runs (field 7) as protobuf-es would, including long names and an empty one", () => {
    const pixels = Array.from({ length: 300 }, (_, i) => ({ x: i % 50, y: Math.floor(i / 50), color: i }));
    const authors = [
      { userId: "u_AAAAAAAAAAAAAAAAAAAAAA", name: "Zoë 😀".padEnd(32, "x"), pixelCount: 1 },
      { userId: "anon-abc-1", name: "", pixelCount: 299 },
    ];
    const bytes = prefixSeqEpoch(encodeBatchBody("default", pixels, "", 9, authors), 3, 4);
    const expected = create(PixelBatchSchema, { canvasId: "default", seq: 3n, epoch: 4n, pixels, timeUnixMs: 9n, authors });
    expect(fromBinary(PixelBatchSchema, bytes)).toEqual(fromBinary(PixelBatchSchema, toBinary(PixelBatchSchema, expected)));
  });

  it("encodes an epoch marker (no pixels, no author) that decodes with seq 0", () => {
    const decoded = fromBinary(PixelBatchSchema, prefixSeqEpoch(encodeBatchBody("default", [], "", 5), 0, 7));
    expect(decoded.seq).toBe(0n);
    expect(decoded.epoch).toBe(7n);
    expect(decoded.pixels).toHaveLength(0);
    expect(decoded.canvasId).toBe("default");
  });
});
