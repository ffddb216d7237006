import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { expectAnswer } from "./ws-oracle.js";
import { generateWsInput } from "./ws-input.js";
import { lenField, placeBody, placeFrame, varintField } from "./wire-writer.js";

const rules = { width: 600, height: 300, maxPixelsPerPlace: 1000, columns: 3, rows: 2 };
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

  it("follows the decoder on the 1M-frame fuzz run's seven frames: an overwritten value does not count, a varint read past a message's end does", () => {
    const fuzzRules = { ...rules, width: 128, height: 128 };
    const answer = (h: string) => expectAnswer(Uint8Array.from(Buffer.from(h, "hex")), true, true, fuzzRules);
    // A later client_seq, or a later color in the same pixel, replaces the value above uint32: an Ack.
    for (const h of [
      "122208d0dfd0df1208080d1018d0df0d12080823104318d0df0d12080842107e18d0df0d",
      "123608b3d418123608b3d41812080800105f18b3d4181208083d106218b3f3d41812080876105818b3d41812080853105e18b3d4b3d41812080835105518b3d418",
      "124008a2a2a2a21b12080839106418a2a21b12080839105918a2a200201b12080867106f18a2a21b1208080d106a18a2a21b9208083c104a18a2a21b12080858106d18a2a21b",
      "124008a9b63212080865105218a9b63212280858105d18a9b6a9b63212080879104618a9b63212080823104f18a9b63212080839105e18a9b6321208084c105818a9b632",
    ]) {
      expect(answer(h)).toMatchObject({ kind: "ack" });
    }
    // A color varint running past its pixel's end into the next bytes is read as one value above uint32.
    for (const h of [
      "120e08e1d71012080806106218f0e1d78310",
      "124008ca82301208081e106d18ca823012080808104518ca823012080860104f18ca82301208084d107d18ca82301208087c104918ca823012080842107118ca82ca8230",
      "124008bb84301208081d104e18bb84301208087b104e18bb843012080831106a18bb843012080836105d18bb84301208083f107718bb84301208085d107a18bb84bb8430",
    ]) {
      expect(answer(h)).toMatchObject({ kind: "error", codes: [ErrorCode.INVALID_ARGUMENT], why: expect.stringMatching(/^a varint above uint32 \(pixel \d color = \d+\)$/) });
    }
  });

  it("expects INVALID_ARGUMENT for a pixel outside the canvas or a colour above 0xFFFFFF, and NOT_JOINED before Hello", () => {
    expect(codesOf(placeFrame(7, [{ x: 600, y: 0, color: 1 }]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(placeFrame(7, [{ x: 0, y: 0, color: 0x1000000 }]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(placeFrame(7, [{ x: 0, y: 0, color: 1 }]), false)).toEqual([ErrorCode.NOT_JOINED]);
  });

  it("expects a Watching for a Watch of tiles inside the grid, INVALID_ARGUMENT outside it, and NOT_JOINED before Hello", () => {
    const watch = (...tiles: [number, number][]) => Uint8Array.from(lenField(5, tiles.flatMap(([tx, ty]) => lenField(1, [...varintField(1, tx), ...varintField(2, ty)]))));
    expect(codesOf(watch([2, 1], [0, 0]))).toBe("watching");
    expect(codesOf(watch())).toBe("watching");
    expect(codesOf(watch([3, 0]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(watch([0, 2]))).toEqual([ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(watch([0, 0]), false)).toEqual([ErrorCode.NOT_JOINED]);
  });

  it("skips a Hello older than protocol 2 (it closes the socket) and expects NOT_FOUND or INVALID_ARGUMENT for a protocol 2 or 3 Hello of a malformed id", () => {
    const hello = (protocol: number) => Uint8Array.from(lenField(1, [...lenField(1, Buffer.from("Not A Canvas!")), ...varintField(5, protocol)]));
    expect(codesOf(hello(1))).toBe("skip");
    expect(codesOf(hello(2))).toEqual([ErrorCode.NOT_FOUND, ErrorCode.INVALID_ARGUMENT]);
    expect(codesOf(hello(3))).toEqual([ErrorCode.NOT_FOUND, ErrorCode.INVALID_ARGUMENT]);
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
