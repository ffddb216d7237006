import { describe, expect, it } from "vitest";
import { validateAuthorRuns } from "./author-runs.js";

describe("author runs", () => {
  it("accepts no authorship, or runs that cover exactly the batch's pixels", () => {
    expect(validateAuthorRuns([], 7)).toBeUndefined();
    expect(validateAuthorRuns([{ userId: "u_a", name: "", pixelCount: 3 }, { userId: "anon-x-1", name: "b", pixelCount: 4 }], 7)).toBeUndefined();
  });

  it.each([
    ["runs that fall short", [{ userId: "u_a", name: "", pixelCount: 2 }], /add up to 2, but the batch has 3/],
    ["an empty user id", [{ userId: "", name: "", pixelCount: 3 }], /authors\[0\]\.user_id/],
    ["a user id over 64 characters", [{ userId: "u".repeat(65), name: "", pixelCount: 3 }], /1 to 64 characters/],
    ["a run of no pixels", [{ userId: "u_a", name: "", pixelCount: 3 }, { userId: "u_b", name: "", pixelCount: 0 }], /authors\[1\]\.pixel_count must be at least 1/],
    ["a name over 32 characters", [{ userId: "u_a", name: "n".repeat(33), pixelCount: 3 }], /authors\[0\]\.name/],
  ])("refuses %s", (_name, runs, message) => {
    expect(validateAuthorRuns(runs, 3)).toMatch(message);
  });
});
