import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema } from "../gen/pixel/v1/canvas_pb.js";
import { ServerFrameSchema } from "../gen/pixel/v1/realtime_pb.js";
import { scanBatchFrames } from "./batch-frame-scan.js";
import { batchPixels, toColumnsBatch } from "./pixel-columns.js";
import { batchFrame, coalescedFrame, columnsBatchFrame } from "./server-frames.js";

/** Pixels with zeros and with values that take one to five varint bytes. */
function somePixels(n: number) {
  return Array.from({ length: n }, (_, i) => ({ x: i % 3 === 0 ? 0 : i * 37, y: (i * 131) % 8192, color: i === 1 ? 0 : (i * 2654435761) >>> 8 }));
}

function storedBatch(pixels: { x: number; y: number; color: number }[], extra: Partial<{ author: string; authors: { userId: string; name: string; pixelCount: number }[] }> = {}) {
  return create(PixelBatchSchema, { canvasId: "default", seq: 77n, epoch: 1_764_670_000_123n, timeUnixMs: 1_764_670_000_456n, pixels, author: extra.author ?? "", authors: extra.authors ?? [] });
}

describe("PixelBatch.columns (protocol 4)", () => {
  it("moves a stored batch's pixels into columns and keeps every other field as it was", () => {
    const pixels = somePixels(9);
    const authors = [
      { userId: "u_a", name: "ann", pixelCount: 4 },
      { userId: "u_b", name: "", pixelCount: 5 },
    ];
    const stored = storedBatch(pixels, { author: "", authors });
    const rewritten = fromBinary(PixelBatchSchema, toColumnsBatch(toBinary(PixelBatchSchema, stored)));
    expect(rewritten.pixels).toEqual([]);
    expect(rewritten.columns).toMatchObject({ x: pixels.map((p) => p.x), y: pixels.map((p) => p.y), color: pixels.map((p) => p.color) });
    expect({ ...rewritten, columns: undefined }).toEqual({ ...stored, pixels: [], columns: undefined });
    expect(batchPixels(rewritten)).toEqual(stored.pixels);
  });

  it("handles batches larger than its scratch columns, and returns a batch without pixels unchanged", () => {
    const pixels = somePixels(5_000);
    const rewritten = fromBinary(PixelBatchSchema, toColumnsBatch(toBinary(PixelBatchSchema, storedBatch(pixels))));
    expect(batchPixels(rewritten).map((p) => [p.x, p.y, p.color])).toEqual(pixels.map((p) => [p.x, p.y, p.color]));
    const marker = toBinary(PixelBatchSchema, storedBatch([]));
    expect(toColumnsBatch(marker)).toBe(marker);
  });

  it("refuses bytes that are not a PixelBatch", () => {
    const bytes = toBinary(PixelBatchSchema, storedBatch(somePixels(3)));
    expect(() => toColumnsBatch(bytes.subarray(0, bytes.length - 2))).toThrow();
  });

  it("reads batches from `pixels` when that is what came", () => {
    const stored = storedBatch(somePixels(4));
    expect(batchPixels(stored)).toBe(stored.pixels);
  });

  it("frames the rewritten batch so that a coalesced frame and the scanner read the same pixels and seqs", () => {
    const frames = [1n, 2n, 3n].map((seq) => batchFrame(toBinary(PixelBatchSchema, { ...storedBatch(somePixels(Number(seq) * 2)), seq })));
    const columns = frames.map(columnsBatchFrame);
    const read = (frame: Buffer) => {
      const colors: number[] = [];
      const seqs: number[] = [];
      scanBatchFrames(frame, (c) => colors.push(c), (s) => seqs.push(s));
      return { colors, seqs };
    };
    expect(read(coalescedFrame(columns))).toEqual(read(coalescedFrame(frames)));
    const decoded = fromBinary(ServerFrameSchema, coalescedFrame(columns)).frame;
    expect(decoded.case).toBe("batches");
    if (decoded.case === "batches") expect(decoded.value.batches.map((b) => b.columns?.x.length)).toEqual([2, 4, 6]);
    expect(() => columnsBatchFrame(coalescedFrame(frames))).toThrow(/one ServerFrame\{batch\}/);
  });
});
