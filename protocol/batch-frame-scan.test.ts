import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema, PixelSchema } from "../gen/pixel/v1/canvas_pb.js";
import { ServerFrameSchema, AckSchema, BatchesSchema } from "../gen/pixel/v1/realtime_pb.js";
import { acksElement, batchFrame as gatewayBatchFrame, coalescedFrame } from "./server-frames.js";
import { decodeServerFrame, encodeServerFrame } from "./frame-codec.js";
import { scanAckFrame, scanBatchFrame, scanBatchFrames } from "./batch-frame-scan.js";

function pixelBatch(seq: bigint, colors: number[]) {
  return create(PixelBatchSchema, {
    canvasId: "default",
    seq,
    epoch: 3n,
    author: "someone",
    timeUnixMs: 1_790_000_000_000n,
    pixels: colors.map((color, i) => create(PixelSchema, { x: i % 50, y: 7, color })),
  });
}

function batchFrame(seq: bigint, colors: number[]): Uint8Array {
  return encodeServerFrame(create(ServerFrameSchema, { frame: { case: "batch", value: pixelBatch(seq, colors) } }));
}

/** What scanBatchFrames reports: [seq, colours] per batch. */
function scanAll(frame: Uint8Array): { count: number; batches: [number, number[]][] } {
  const batches: [number, number[]][] = [];
  let colors: number[] = [];
  const count = scanBatchFrames(frame, (c) => colors.push(c), (seq) => {
    batches.push([seq, colors]);
    colors = [];
  });
  return { count, batches };
}

/** What the app's codec decodes from a batch or batches frame: [seq, colours] per batch. */
function decodeAll(frame: Uint8Array): [number, number[]][] {
  const decoded = decodeServerFrame(frame);
  if (!decoded.ok) throw new Error(decoded.error);
  const f = decoded.frame.frame;
  const list = f.case === "batch" ? [f.value] : f.case === "batches" ? f.value.batches : [];
  return list.map((b) => [Number(b.seq), b.pixels.map((p) => p.color)]);
}

const COLORS = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0xffffff, 123_456];

describe("scanBatchFrame", () => {
  it("reads the same seq and colours as the app's frame codec", () => {
    const colors = COLORS;
    const frame = batchFrame(9_876_543_210n, colors);
    const seen: number[] = [];
    const seq = scanBatchFrame(frame, (c) => seen.push(c));
    const decoded = decodeServerFrame(frame);
    if (!decoded.ok || decoded.frame.frame.case !== "batch") throw new Error("codec did not decode a batch");
    expect(seq).toBe(Number(decoded.frame.frame.value.seq));
    expect(seen).toEqual(decoded.frame.frame.value.pixels.map((p) => p.color));
  });

  it("reads every batch of a coalesced batches frame, in order, the same as the codec, and a batch frame as one", () => {
    // One batch long enough for two-byte lengths inside a three-byte outer length.
    const list = [pixelBatch(41n, COLORS), pixelBatch(42n, [5]), pixelBatch(43n, Array.from({ length: 3000 }, (_, i) => i * 5591)), pixelBatch(44n, [])];
    const frame = encodeServerFrame(create(ServerFrameSchema, { frame: { case: "batches", value: create(BatchesSchema, { batches: list }) } }));
    const scanned = scanAll(frame);
    expect(scanned.count).toBe(4);
    expect(scanned.batches).toEqual(decodeAll(frame));
    expect(scanned.batches.map(([seq]) => seq)).toEqual([41, 42, 43, 44]);
    const single = batchFrame(7n, COLORS);
    expect(scanAll(single)).toEqual({ count: 1, batches: decodeAll(single) });
  });

  it("reads the gateway's own coalesced frames (built without the codec) the same as the codec", () => {
    const frames = [10n, 11n, 12n].map((seq) => gatewayBatchFrame(toBinary(PixelBatchSchema, pixelBatch(seq, COLORS.map((c) => c ^ Number(seq))))));
    const frame = coalescedFrame(frames);
    expect(scanAll(frame).batches).toEqual(decodeAll(frame));
  });

  it("answers -1 for frames that are not batches", () => {
    const ack = encodeServerFrame(create(ServerFrameSchema, { frame: { case: "ack", value: create(AckSchema, { clientSeq: 5, seq: 9n }) } }));
    expect(scanBatchFrame(ack, () => undefined)).toBe(-1);
    expect(scanBatchFrames(ack, () => undefined, () => undefined)).toBe(-1);
  });

  it("throws on a truncated frame instead of reading past it", () => {
    const frame = batchFrame(1n, [1, 2, 3]);
    expect(() => scanBatchFrame(frame.subarray(0, frame.length - 4), () => undefined)).toThrow(/truncated/);
    const batches = encodeServerFrame(create(ServerFrameSchema, { frame: { case: "batches", value: create(BatchesSchema, { batches: [pixelBatch(1n, [1]), pixelBatch(2n, [2, 3])] }) } }));
    expect(() => scanBatchFrames(batches.subarray(0, batches.length - 4), () => undefined, () => undefined)).toThrow(/truncated/);
  });

  it("reads the acks a batch or batches frame carries after its batches, and frames of acks alone", () => {
    const one = Buffer.from(batchFrame(7n, [1, 2]));
    const two = coalescedFrame([one, Buffer.from(batchFrame(8n, [3]))]);
    for (const frame of [one, two]) {
      const acks: number[] = [];
      const seqs: number[] = [];
      const withAcks = Buffer.concat([frame, acksElement(11, 7n), acksElement(12, 8n)]);
      expect(scanBatchFrames(withAcks, () => undefined, (s) => seqs.push(s), (c) => acks.push(c))).toBe(frame === one ? 1 : 2);
      expect(seqs).toEqual(frame === one ? [7] : [7, 8]);
      expect(acks).toEqual([11, 12]);
    }
    const alone: number[] = [];
    expect(scanAckFrame(Buffer.concat([acksElement(1, 1n), acksElement(0xffffffff, 2n)]), (c) => alone.push(c))).toBe(2);
    expect(alone).toEqual([1, 0xffffffff]);
  });
});
