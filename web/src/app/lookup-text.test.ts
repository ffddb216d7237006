import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PlacementKind, PlacementSchema } from "../../../gen/pixel/v1/history_pb.js";
import { agoText, authorText, kindText } from "./lookup-text.js";

describe("lookup text", () => {
  it("says how long ago in the largest whole unit", () => {
    const now = Date.UTC(2026, 0, 10, 12);
    expect(agoText(now - 12_400, now)).toBe("12 s ago");
    expect(agoText(now - 5 * 60_000 - 10, now)).toBe("5 min ago");
    expect(agoText(now - 3 * 3_600_000, now)).toBe("3 h ago");
    expect(agoText(Date.UTC(2026, 0, 2), now)).toBe("2026-01-02");
    expect(agoText(now + 5000, now)).toBe("0 s ago");
  });

  it("names the author, never by user id, and marks undos, rollbacks and reverted placements", () => {
    expect(authorText(create(PlacementSchema, { name: "alice", userId: "u_1" }))).toBe("alice");
    expect(authorText(create(PlacementSchema, { userId: "u_1" }))).toBe("anonymous");
    expect(kindText(create(PlacementSchema, { kind: PlacementKind.PLACE }))).toBe("");
    expect(kindText(create(PlacementSchema, { kind: PlacementKind.UNDO }))).toBe("undo");
    expect(kindText(create(PlacementSchema, { kind: PlacementKind.PLACE, revertedBySeq: 9n }))).toBe("reverted by seq 9");
    expect(kindText(create(PlacementSchema, { kind: PlacementKind.ROLLBACK, revertedBySeq: 9n }))).toBe("moderation rollback, reverted by seq 9");
  });
});
