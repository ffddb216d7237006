import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema, PixelSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { ServerFrameSchema, AckSchema } from "../../gen/pixel/v1/realtime_pb.js";
import { decodeServerFrame, encodeServerFrame } from "../../web/src/protocol/frame-codec.js";
import { scanBatchFrame } from "./batch-scanner.js";

function batchFrame(seq: bigint, colors: number[]): Uint8Array {
  const batch = create(PixelBatchSchema, {
    canvasId: "default",
    seq,
    epoch: 3n,
    author: "someone",
    timeUnixMs: 1_790_000_000_000n,
    pixels: colors.map((color, i) => create(PixelSchema, { x: i % 50, y: 7, color })),
  });
  return encodeServerFrame(create(ServerFrameSchema, { frame: { case: "batch", value: batch } }));
}

describe("scanBatchFrame", () => {
  it("reads the same seq and colours as the app's frame codec", () => {
    const colors = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0xffffff, 123_456];
    const frame = batchFrame(9_876_543_210n, colors);
    const seen: number[] = [];
    const seq = scanBatchFrame(frame, (c) => seen.push(c));
    const decoded = decodeServerFrame(frame);
    if (!decoded.ok || decoded.frame.frame.case !== "batch") throw new Error("codec did not decode a batch");
    expect(seq).toBe(Number(decoded.frame.frame.value.seq));
    expect(seen).toEqual(decoded.frame.frame.value.pixels.map((p) => p.color));
  });

  it("answers -1 for frames that are not batches", () => {
    const ack = encodeServerFrame(create(ServerFrameSchema, { frame: { case: "ack", value: create(AckSchema, { clientSeq: 5, seq: 9n }) } }));
    expect(scanBatchFrame(ack, () => undefined)).toBe(-1);
  });

  it("throws on a truncated frame instead of reading past it", () => {
    const frame = batchFrame(1n, [1, 2, 3]);
    expect(() => scanBatchFrame(frame.subarray(0, frame.length - 4), () => undefined)).toThrow(/truncated/);
  });
});
