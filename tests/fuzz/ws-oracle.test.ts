import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { expectAnswer } from "./ws-oracle.js";
import { generateWsInput } from "./ws-input.js";
import { lenField, placeBody, placeFrame, varintField } from "./wire-writer.js";

const rules = { width: 128, height: 128, maxPixelsPerPlace: 1000 };
const codesOf = (bytes: Uint8Array, joined = true) => {
  const e = expectAnswer(bytes, true, joined, rules);
  return e.kind === "error" ? e.codes : e.kind;
};

describe("the /ws oracle", () => {
  it("expects an Ack with the decoded pixels for a valid Place on a joined socket", () => {
    expect(expectAnswer(placeFrame(7, [{ x: 1, y: 2, color: 0xabcdef }]), true, true, rules)).toEqual({ kind: "ack", clientSeq: 7, pixels: [{ x: 1, y: 2, color: 0xabcdef }] });
  });

  it("expects MALFORMED_FRAME for a field-0 tag inside a pixel, which the generated decoder rejects", () => {
    const frame = Uint8Array.from(lenField(2, placeBody(7, [[...varintField(1, 3), 0x00, 0x07, ...varintField(2, 70), ...varintField(3, 5)]])));
    expect(codesOf(frame)).toEqual([ErrorCode.MALFORMED_FRAME]);
  });

  it("expects INVALID_ARGUMENT for x = 2^32+3, alone or hidden in a second Place field the decoder merges", () => {
    const big = { x: 0x1_0000_0003n, y: 70, color: 5 };
    expect(codesOf(placeFrame(7, [big]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(Uint8Array.from([...placeFrame(7, [{ x: 1, y: 70, color: 5 }]), ...placeFrame(7, [big])]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(Uint8Array.from([...placeFrame(7, [big]), ...varintField(15, 1)]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
  });

  it("expects INVALID_ARGUMENT for a pixel outside the canvas or a colour above 0xFFFFFF, and NOT_JOINED before Hello", () => {
    expect(codesOf(placeFrame(7, [{ x: 128, y: 0, color: 1 }]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(placeFrame(7, [{ x: 0, y: 0, color: 0x1000000 }]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(placeFrame(7, [{ x: 0, y: 0, color: 1 }]), false)).toEqual([ErrorCode.NOT_JOINED]);
  });

  it("expects MALFORMED_FRAME for a text frame and a Pong with the nonce for a Ping", () => {
    expect(expectAnswer(Uint8Array.from(Buffer.from("hi")), false, true, rules)).toMatchObject({ kind: "error", codes: [ErrorCode.MALFORMED_FRAME] });
    expect(expectAnswer(Uint8Array.from(lenField(4, varintField(1, 42))), true, true, rules)).toEqual({ kind: "pong", nonce: 42n });
  });
});

describe("the /ws input generator", () => {
  it("rebuilds the same input from the seed and its number, and different inputs for different numbers", () => {
    const layout = { width: 128, height: 128 };
    expect(generateWsInput(1, 500, layout)).toEqual(generateWsInput(1, 500, layout));
    expect(generateWsInput(1, 500, layout).bytes).not.toEqual(generateWsInput(1, 501, layout).bytes);
  });
});
