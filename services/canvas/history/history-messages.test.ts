import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RollbackFilterSchema } from "../../../gen/pixel/v1/history_pb.js";
import { filterMessage, filterOf } from "./history-messages.js";
import { boxAverage } from "./tile-at.js";

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return ConnectError.from(err).code;
  }
  return undefined;
};

describe("rollback filters", () => {
  it("reads every condition and writes it back unchanged", () => {
    const message = create(RollbackFilterSchema, { rect: { x: 1, y: 2, width: 3, height: 4 }, userId: "u", fromTimeUnixMs: 5n, toTimeUnixMs: 6n, fromSeq: 7n, toSeq: 8n });
    const filter = filterOf(message);
    expect(filter).toEqual({ rect: { x: 1, y: 2, width: 3, height: 4 }, userId: "u", fromTimeMs: 5, toTimeMs: 6, fromSeq: 7, toSeq: 8 });
    expect(create(RollbackFilterSchema, filterMessage(filter))).toEqual(message);
  });

  it("refuses no condition, an empty rectangle, reversed ranges and an empty user id as InvalidArgument", () => {
    expect(codeOf(() => filterOf(undefined))).toBe(Code.InvalidArgument);
    expect(codeOf(() => filterOf(create(RollbackFilterSchema, {})))).toBe(Code.InvalidArgument);
    expect(codeOf(() => filterOf(create(RollbackFilterSchema, { rect: { x: 0, y: 0, width: 0, height: 1 } })))).toBe(Code.InvalidArgument);
    expect(codeOf(() => filterOf(create(RollbackFilterSchema, { fromSeq: 9n, toSeq: 8n })))).toBe(Code.InvalidArgument);
    expect(codeOf(() => filterOf(create(RollbackFilterSchema, { userId: "" })))).toBe(Code.InvalidArgument);
  });
});

describe("boxAverage", () => {
  it("averages scale x scale blocks, clipped at the edges", () => {
    // 3x1 image, scale 2: the first output pixel averages two, the second is the lone third.
    const out = boxAverage(new Uint8Array([0, 0, 0, 100, 100, 100, 7, 8, 9]), 3, 1, 2, 2, 1);
    expect([...out]).toEqual([50, 50, 50, 7, 8, 9]);
  });
});
