import { describe, expect, it } from "vitest";
import { parseFlags, UsageError } from "./flags.js";

describe("parseFlags", () => {
  const defaults = { clients: 50, target: "ours", "profile": false };

  it("takes numbers, strings and booleans in both spellings", () => {
    expect(parseFlags(["--clients", "7", "--target=legacy", "--profile"], defaults)).toEqual({ clients: 7, target: "legacy", "profile": true });
    expect(parseFlags(["--no-profile"], { ...defaults, "profile": true })["profile"]).toBe(false);
  });

  it("names an unknown flag and a bad number", () => {
    expect(() => parseFlags(["--clinets", "7"], defaults)).toThrow(UsageError);
    expect(() => parseFlags(["--clients", "many"], defaults)).toThrow(/--clients needs a non-negative number, got "many"/);
  });
});
