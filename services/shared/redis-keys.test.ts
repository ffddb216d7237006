import { describe, expect, it } from "vitest";
import { canvasKeys, tileKey } from "./redis-keys.js";

describe("redis keys", () => {
  it("keys tiles under the canvas's hash tag, after the tile version hash", () => {
    expect(tileKey("default", 3, 12)).toBe("canvas:{default}:tiles:3:12");
    expect(tileKey("default", 3, 12).startsWith(`${canvasKeys("default").tiles}:`)).toBe(true);
    expect(canvasKeys("default").meta).toContain("{default}");
  });
});
