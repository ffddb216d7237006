import { describe, expect, it } from "vitest";
import { batchContinuity } from "./batch-continuity.js";

const at = (seq: bigint, epoch: bigint) => ({ seq, epoch });

describe("batchContinuity", () => {
  it("applies only seq + 1 in the same epoch", () => {
    expect(batchContinuity(at(41n, 7n), at(42n, 7n))).toBe("apply");
    expect(batchContinuity(at(0n, 7n), at(1n, 7n))).toBe("apply");
  });

  it("calls a seq at or below the copy's a duplicate, including an epoch marker of the copy's own epoch", () => {
    expect(batchContinuity(at(42n, 7n), at(42n, 7n))).toBe("duplicate");
    expect(batchContinuity(at(42n, 7n), at(3n, 7n))).toBe("duplicate");
    // A reset's marker carries seq 0 in the new epoch; a copy already snapshotted there ignores it.
    expect(batchContinuity(at(0n, 8n), at(0n, 8n))).toBe("duplicate");
  });

  it("calls a jump past seq + 1 in the same epoch a gap", () => {
    expect(batchContinuity(at(41n, 7n), at(43n, 7n))).toBe("gap");
    expect(batchContinuity(at(0n, 7n), at(2n, 7n))).toBe("gap");
  });

  it("tells another epoch apart by direction, whatever the seqs", () => {
    expect(batchContinuity(at(41n, 7n), at(42n, 8n))).toBe("newer-epoch");
    // A reset's marker: seq 0 in a newer epoch.
    expect(batchContinuity(at(41n, 7n), at(0n, 8n))).toBe("newer-epoch");
    expect(batchContinuity(at(41n, 7n), at(42n, 6n))).toBe("older-epoch");
    expect(batchContinuity(at(0n, 0n), at(1n, 5n))).toBe("newer-epoch");
  });
});
