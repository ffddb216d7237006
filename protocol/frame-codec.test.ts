import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PixelBatchSchema, PixelSchema } from "../gen/pixel/v1/canvas_pb.js";
import { BatchesSchema, ClientFrameSchema, ErrorCode, ErrorSchema, ServerFrameSchema, WelcomeSchema } from "../gen/pixel/v1/realtime_pb.js";
import { decodeClientFrame, decodeServerFrame, encodeClientFrame, encodeServerFrame, helloFrame, pingFrame, placeFrame, setNameFrame } from "./frame-codec.js";

describe("frame codec", () => {
  it("round-trips every ClientFrame kind", () => {
    const hello = decodeClientFrame(encodeClientFrame(helloFrame("c1", "ann", 42n, 7n)));
    expect(hello.ok && hello.frame.case === "hello" && hello.frame.value).toMatchObject({ canvasId: "c1", name: "ann", lastSeq: 42n, lastEpoch: 7n });
    const place = decodeClientFrame(encodeClientFrame(placeFrame(9, [{ x: 1, y: 2, color: 0xff8800 }, { x: 49, y: 0, color: 0 }])));
    expect(place.ok && place.frame.case === "place" && place.frame.value.clientSeq).toBe(9);
    expect(place.ok && place.frame.case === "place" && place.frame.value.pixels.map((p) => [p.x, p.y, p.color])).toEqual([[1, 2, 0xff8800], [49, 0, 0]]);
    const name = decodeClientFrame(encodeClientFrame(setNameFrame("bob")));
    expect(name.ok && name.frame.case === "setName" && name.frame.value.name).toBe("bob");
    const ping = decodeClientFrame(encodeClientFrame(pingFrame(123n)));
    expect(ping.ok && ping.frame.case === "ping" && ping.frame.value.nonce).toBe(123n);
  });

  it("round-trips ServerFrames, including a batch and an error", () => {
    const batch = create(PixelBatchSchema, { seq: 5n, epoch: 2n, canvasId: "default", pixels: [create(PixelSchema, { x: 3, y: 4, color: 0x123456 })] });
    const decoded = decodeServerFrame(encodeServerFrame(create(ServerFrameSchema, { frame: { case: "batch", value: batch } })));
    expect(decoded.ok && decoded.frame.frame.case === "batch" && decoded.frame.frame.value).toMatchObject({ seq: 5n, epoch: 2n, pixels: [{ x: 3, y: 4, color: 0x123456 }] });
    const error = create(ErrorSchema, { code: ErrorCode.RATE_LIMITED, message: "slow down", clientSeq: 3 });
    const e = decodeServerFrame(encodeServerFrame(create(ServerFrameSchema, { frame: { case: "error", value: error } })));
    expect(e.ok && e.frame.frame.case === "error" && e.frame.frame.value).toMatchObject({ code: ErrorCode.RATE_LIMITED, clientSeq: 3 });
  });

  it("round-trips a coalesced batches frame with its batches in order", () => {
    const list = [7n, 8n, 9n].map((seq) => create(PixelBatchSchema, { seq, epoch: 2n, canvasId: "default", pixels: [create(PixelSchema, { x: Number(seq), y: 1, color: Number(seq) * 0x10101 })] }));
    const decoded = decodeServerFrame(encodeServerFrame(create(ServerFrameSchema, { frame: { case: "batches", value: create(BatchesSchema, { batches: list }) } })));
    if (!decoded.ok || decoded.frame.frame.case !== "batches") throw new Error("not decoded as batches");
    expect(decoded.frame.frame.value.batches.map((b) => [b.seq, b.pixels[0]!.x, b.pixels[0]!.color])).toEqual([[7n, 7, 0x70707], [8n, 8, 0x80808], [9n, 9, 0x90909]]);
  });

  it("decodes from an ArrayBuffer as browsers deliver it", () => {
    const bytes = encodeServerFrame(create(ServerFrameSchema, { frame: { case: "welcome", value: create(WelcomeSchema, { width: 2, height: 1, pixels: new Uint8Array(6) }) } }));
    const buffer = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(buffer).set(bytes);
    const decoded = decodeServerFrame(buffer);
    expect(decoded.ok && decoded.frame.frame.case === "welcome" && decoded.frame.frame.value.width).toBe(2);
  });

  it("returns typed failures for garbage, text and empty frames instead of throwing", () => {
    const garbage = decodeServerFrame(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(garbage).toMatchObject({ ok: false });
    expect(garbage.ok ? "" : garbage.error).toMatch(/undecodable server frame of 5 bytes/);
    expect(decodeServerFrame("hello")).toEqual({ ok: false, error: "text frame: the protocol is binary protobuf only" });
    expect(decodeServerFrame(new Uint8Array(0))).toEqual({ ok: false, error: "server frame of 0 bytes has no known frame set and no acks" });
    expect(decodeClientFrame(new Uint8Array([0x0a, 0x05, 0x01]))).toMatchObject({ ok: false });
  });

  it("decodes client frames and reports text, garbage and empty frames as malformed", () => {
    const ok = decodeClientFrame(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "ping", value: { nonce: 5n } } })), true);
    expect(ok).toMatchObject({ ok: true, frame: { case: "ping", value: { nonce: 5n } } });
    expect(decodeClientFrame(new TextEncoder().encode("hello"), false)).toMatchObject({ ok: false, message: expect.stringContaining("text frames") });
    expect(decodeClientFrame(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), true)).toMatchObject({ ok: false, message: expect.stringContaining("not a pixel.v1.ClientFrame") });
    expect(decodeClientFrame(new Uint8Array(0), true)).toMatchObject({ ok: false, message: expect.stringContaining("sets none") });
  });
});
