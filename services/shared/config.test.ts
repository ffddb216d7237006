import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("CANVAS_IDS, the registry's seed", () => {
  it("gives each plain name CANVAS_WIDTH x CANVAS_HEIGHT and each name:WxH its own size, adding the default canvas first when missing", () => {
    const config = loadConfig({ CANVAS_WIDTH: "60", CANVAS_HEIGHT: "40", CANVAS_IDS: "art, big:2048x1024" });
    expect(config.canvasIds).toEqual(["default", "art", "big"]);
    expect(Object.fromEntries(config.canvasSizes)).toEqual({ default: { width: 60, height: 40 }, art: { width: 60, height: 40 }, big: { width: 2048, height: 1024 } });
  });

  it("defaults to the default canvas alone at 50x50", () => {
    expect(Object.fromEntries(loadConfig({}).canvasSizes)).toEqual({ default: { width: 50, height: 50 } });
  });

  it("refuses a bad name, a side outside 1..8192, a malformed size and a name given twice", () => {
    for (const raw of ["Big", "big:0x10", "big:8193x10", "big:10", "big:10x10x10", "a,a:5x5"]) {
      expect(() => loadConfig({ CANVAS_IDS: raw }), raw).toThrow(ConfigError);
    }
  });
});
