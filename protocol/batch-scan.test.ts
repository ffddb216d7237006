import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema } from "../gen/pixel/v1/canvas_pb.js";
import { BatchScanError, paintInto, scanBatch } from "./batch-scan.js";

describe("scanBatch", () => {
  it("reads seq, epoch, time and paints pixels in order, later pixels winning", () => {
    const pixels = [
      { x: 0, y: 0, color: 0x010203 },
      { x: 2, y: 1, color: 0xffffff },
      { x: 0, y: 0, color: 0x0a0b0c },
      { x: 300, y: 1, color: 0x123456 }, // off this canvas: ignored, still counted
    ];
    const payload = toBinary(PixelBatchSchema, create(PixelBatchSchema, { canvasId: "default", seq: 1234567890123n, epoch: 7n, pixels, author: "ann", timeUnixMs: 1700000000123n }));
    const target = { pixels: new Uint8Array(3 * 2 * 3), width: 3, height: 2 };
    expect(scanBatch(payload, paintInto(target))).toEqual({ seq: 1234567890123n, epoch: 7n, timeUnixMs: 1700000000123n, pixelCount: 4 });
    expect([...target.pixels]).toEqual([0x0a, 0x0b, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]);
  });

  it("accepts seq and epoch prepended to the body, as the canvas service publishes them", () => {
    const body = toBinary(PixelBatchSchema, create(PixelBatchSchema, { canvasId: "c", pixels: [{ x: 1, y: 0, color: 5 }] }));
    const prefix = toBinary(PixelBatchSchema, create(PixelBatchSchema, { seq: 9n, epoch: 2n }));
    const payload = Buffer.concat([prefix, body]);
    expect(scanBatch(payload)).toMatchObject({ seq: 9n, epoch: 2n, pixelCount: 1 });
  });

  it("rejects truncated bytes instead of misreading them", () => {
    const payload = toBinary(PixelBatchSchema, create(PixelBatchSchema, { seq: 3n, pixels: [{ x: 1, y: 2, color: 3 }] }));
    expect(() => scanBatch(payload.subarray(0, payload.length - 2))).toThrow(BatchScanError);
    expect(() => scanBatch(Uint8Array.from([0xff, 0xff, 0xff]))).toThrow(BatchScanError);
  });
});
