import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema } from "../gen/pixel/v1/canvas_pb.js";
import { ErrorCode, ServerFrameSchema } from "../gen/pixel/v1/realtime_pb.js";
import { ackFrame, acksElement, batchFrame, batchFrameType, coalescedFrame, coalesceFrames, encodeWelcomeBody, errorFrame, welcomeFrame } from "./server-frames.js";

describe("server frames", () => {
  it("frames published batch bytes as ServerFrame.batch without re-encoding, for small and large batches", () => {
    for (const count of [1, 20, 5000]) {
      const pixels = Array.from({ length: count }, (_, i) => ({ x: i % 50, y: i % 40, color: i * 7 }));
      const batch = create(PixelBatchSchema, { canvasId: "default", seq: 42n, epoch: 3n, pixels, author: "ann", timeUnixMs: 1700000000000n });
      const payload = toBinary(PixelBatchSchema, batch);
      const frame = batchFrame(payload);
      expect(frame.subarray(frame.length - payload.length).equals(Buffer.from(payload))).toBe(true);
      const decoded = fromBinary(ServerFrameSchema, frame);
      expect(decoded.frame.case).toBe("batch");
      if (decoded.frame.case !== "batch") return;
      expect(decoded.frame.value.seq).toBe(42n);
      expect(decoded.frame.value.epoch).toBe(3n);
      expect(decoded.frame.value.pixels).toHaveLength(count);
      expect(decoded.frame.value.pixels[count - 1]!.color).toBe((count - 1) * 7);
    }
  });

  it("coalesces batch frames into one ServerFrame.batches that the generated codec decodes to the same batches, in order", () => {
    // Sizes around the one- and two-byte varint boundaries, and one batch big enough for a 3-byte length.
    const payloads = [1, 5, 40, 3000].map((count, i) =>
      toBinary(PixelBatchSchema, create(PixelBatchSchema, { canvasId: "default", seq: BigInt(100 + i), epoch: 2n, pixels: Array.from({ length: count }, (_, j) => ({ x: j % 50, y: i, color: j * 31 + i })), author: "a", timeUnixMs: 1700000000000n + BigInt(i) })),
    );
    const frames = payloads.map((p) => batchFrame(p));
    const frame = coalescedFrame(frames);
    expect(frame[0]).toBe(0x3a);
    expect(batchFrameType(frame)).toBe("batches");
    const decoded = fromBinary(ServerFrameSchema, frame);
    expect(decoded.frame.case).toBe("batches");
    if (decoded.frame.case !== "batches") return;
    const expected = payloads.map((p) => fromBinary(PixelBatchSchema, p));
    expect(decoded.frame.value.batches).toEqual(expected);
    // The inputs are left as they were: the ring still holds them.
    expect(frames.every((f) => f[0] === 0x12)).toBe(true);
  });

  it("keeps a lone batch frame as it is, and refuses frames that are not batches", () => {
    const single = batchFrame(toBinary(PixelBatchSchema, create(PixelBatchSchema, { seq: 1n, pixels: [{ x: 1, y: 1, color: 1 }] })));
    expect(coalescedFrame([single])).toBe(single);
    expect(batchFrameType(single)).toBe("batch");
    expect(() => coalescedFrame([single, Buffer.from(errorFrame(ErrorCode.INTERNAL, "x"))])).toThrow(/batch/);
  });

  it("groups a replay into coalesced frames of at most about maxBytes, in order", () => {
    const frames = Array.from({ length: 10 }, (_, i) => batchFrame(toBinary(PixelBatchSchema, create(PixelBatchSchema, { seq: BigInt(i + 1), pixels: [{ x: i + 1, y: 1, color: i + 1 }] }))));
    const size = frames[0]!.length;
    const groups = coalesceFrames(frames, size * 4);
    expect(groups).toHaveLength(3);
    const seqs = groups.map((g) => {
      const f = fromBinary(ServerFrameSchema, g).frame;
      return f.case === "batches" ? f.value.batches.map((b) => b.seq) : f.case === "batch" ? [f.value.seq] : [];
    });
    expect(seqs).toEqual([[1n, 2n, 3n, 4n], [5n, 6n, 7n, 8n], [9n, 10n]]);
    expect(coalesceFrames(frames, 1)).toEqual(frames);
    expect(coalesceFrames([], 100)).toEqual([]);
  });

  it("completes a cached Welcome body with each connection's id", () => {
    const body = encodeWelcomeBody({ canvasId: "c", width: 2, height: 2, seq: 7n, epoch: 1n, maxPixelsPerPlace: 1000, pixelsPerSecond: 200, tileSize: 256, levelCount: 1, protocol: 2 });
    for (const id of ["a-1", "x".repeat(200)]) {
      const decoded = fromBinary(ServerFrameSchema, welcomeFrame(body, id));
      expect(decoded.frame.case).toBe("welcome");
      if (decoded.frame.case !== "welcome") return;
      expect(decoded.frame.value).toMatchObject({ canvasId: "c", width: 2, height: 2, seq: 7n, epoch: 1n, connectionId: id, maxPixelsPerPlace: 1000, pixelsPerSecond: 200, tileSize: 256, levelCount: 1, protocol: 2 });
    }
  });

  it("encodes errors with code, message and client_seq", () => {
    const decoded = fromBinary(ServerFrameSchema, errorFrame(ErrorCode.RATE_LIMITED, "slow down", 12));
    expect(decoded.frame).toMatchObject({ case: "error", value: { code: ErrorCode.RATE_LIMITED, message: "slow down", clientSeq: 12 } });
  });

  it("encodes ack frames and acks elements by hand exactly as the generated code does", () => {
    for (const [clientSeq, seq] of [[0, 0n], [1, 1n], [127, 128n], [0xffffffff, 2n ** 40n], [5, 2n ** 60n]] as const) {
      expect(Buffer.from(ackFrame(clientSeq, seq))).toEqual(Buffer.from(toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "ack", value: { clientSeq, seq } } }))));
      expect(acksElement(clientSeq, seq)).toEqual(Buffer.from(toBinary(ServerFrameSchema, create(ServerFrameSchema, { acks: [{ clientSeq, seq }] }))));
    }
  });

  it("adds acks to any frame by appending elements, which a decoder reads beside the frame", () => {
    const payload = toBinary(PixelBatchSchema, create(PixelBatchSchema, { canvasId: "c", seq: 9n, epoch: 1n, pixels: [{ x: 1, y: 2, color: 3 }] }));
    const frame = Buffer.concat([batchFrame(payload), acksElement(4, 9n), acksElement(5, 9n)]);
    const decoded = fromBinary(ServerFrameSchema, frame);
    expect(decoded.frame.case).toBe("batch");
    expect(decoded.acks.map((a) => [a.clientSeq, a.seq])).toEqual([[4, 9n], [5, 9n]]);
    const alone = fromBinary(ServerFrameSchema, acksElement(6, 10n));
    expect(alone.frame.case).toBeUndefined();
    expect(alone.acks).toHaveLength(1);
  });
});
