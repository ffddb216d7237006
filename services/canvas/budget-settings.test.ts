import { describe, expect, it } from "vitest";
import { ConfigError } from "../shared/config.js";
import { canvasBudget, parseBudgetSettings } from "./budget-settings.js";

const defaults = { pixelsPerSecond: 200, pixelBurst: 1000 };

describe("parseBudgetSettings", () => {
  it("defaults every canvas to the PIXELS_PER_SECOND / PIXEL_BURST bucket with a network budget 4 times as big", () => {
    expect(canvasBudget(parseBudgetSettings({}, defaults), "any")).toEqual({
      user: { kind: "rate", perSecond: 200, burst: 1000 },
      ip: { kind: "rate", perSecond: 800, burst: 4000 },
    });
  });

  it("reads per-canvas rate, cooldown and off rules, a * fallback, and IP_BUDGET_FACTOR=0 as no network budget", () => {
    const s = parseBudgetSettings({ CANVAS_BUDGETS: "default:rate=50,burst=100; big:cooldown=5000,pixels=1;free:off;*:rate=0.5,burst=2", IP_BUDGET_FACTOR: "0" }, defaults);
    expect(canvasBudget(s, "default")).toEqual({ user: { kind: "rate", perSecond: 50, burst: 100 }, ip: undefined });
    expect(canvasBudget(s, "big")).toEqual({ user: { kind: "cooldown", pixels: 1, cooldownMs: 5000 }, ip: undefined });
    expect(canvasBudget(s, "free")).toBeUndefined();
    expect(canvasBudget(s, "other")).toEqual({ user: { kind: "rate", perSecond: 0.5, burst: 2 }, ip: undefined });
  });

  it.each([
    ["default:rate=200", "CANVAS_BUDGETS entry \"default:rate=200\" must be"],
    ["default:rate=0,burst=10", "rate (pixels per second) must be a number above 0"],
    ["big:cooldown=5000,pixels=1.5", "pixels must be an integer above 0"],
    ["Bad:off", "must start with a canvas id"],
    ["a:off;a:off", "names \"a\" twice"],
  ])("refuses CANVAS_BUDGETS=%s with a ConfigError naming the variable", (value, message) => {
    expect(() => parseBudgetSettings({ CANVAS_BUDGETS: value }, defaults)).toThrow(ConfigError);
    expect(() => parseBudgetSettings({ CANVAS_BUDGETS: value }, defaults)).toThrow(message);
  });

  it("refuses a negative IP_BUDGET_FACTOR naming the variable", () => {
    expect(() => parseBudgetSettings({ IP_BUDGET_FACTOR: "-1" }, defaults)).toThrow("IP_BUDGET_FACTOR=-1 must be an integer");
  });
});
