import { describe, expect, it } from "vitest";
import { Cooldown, cooldownText } from "./cooldown.js";

describe("Cooldown", () => {
  it("counts down from the latest refusal's end and ignores refusals without a wait", () => {
    const cooldown = new Cooldown();
    cooldown.refused(5_000, 1_000);
    cooldown.refused(1_000, 2_000);
    cooldown.refused(0, 2_000);
    expect(cooldown.remainingMs(2_000)).toBe(4_000);
    expect(cooldown.remainingMs(7_000)).toBe(0);
  });

  it("says whole seconds rounded up", () => {
    expect([cooldownText(4_001), cooldownText(4_000), cooldownText(1)]).toEqual(["wait 5 s", "wait 4 s", "wait 1 s"]);
  });
});
