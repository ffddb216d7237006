import { describe, expect, it } from "vitest";
import { ARROW_PAN_PX, isUndoKey, shortcutFor } from "./view-shortcuts.js";
import { ZOOM_STEP } from "./viewport.js";

const key = (k: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe("keyboard shortcuts", () => {
  it("zooms with + (or =) and -, and fits with 0", () => {
    expect(shortcutFor(key("+"))).toEqual({ kind: "zoom", factor: ZOOM_STEP });
    expect(shortcutFor(key("="))).toEqual({ kind: "zoom", factor: ZOOM_STEP });
    expect(shortcutFor(key("-"))).toEqual({ kind: "zoom", factor: 1 / ZOOM_STEP });
    expect(shortcutFor(key("0"))).toEqual({ kind: "fit" });
  });

  it("pans with the arrows towards the side they point at, further with Shift", () => {
    expect(shortcutFor(key("ArrowRight"))).toEqual({ kind: "pan", dx: -ARROW_PAN_PX, dy: 0 });
    expect(shortcutFor(key("ArrowUp"))).toEqual({ kind: "pan", dx: 0, dy: ARROW_PAN_PX });
    expect(shortcutFor(key("ArrowLeft", { shiftKey: true }))).toEqual({ kind: "pan", dx: 4 * ARROW_PAN_PX, dy: 0 });
  });

  it("switches to the hand with H and to the brush with B, either case", () => {
    expect(shortcutFor(key("h"))).toEqual({ kind: "mode", mode: "hand" });
    expect(shortcutFor(key("B"))).toEqual({ kind: "mode", mode: "brush" });
  });

  it("picks the inspector with I", () => {
    expect(shortcutFor(key("i"))).toEqual({ kind: "mode", mode: "inspect" });
    expect(shortcutFor(key("I"))).toEqual({ kind: "mode", mode: "inspect" });
  });

  it("undoes with Ctrl+Z or Cmd+Z, not with Shift (redo) or a plain Z", () => {
    expect(isUndoKey(key("z", { ctrlKey: true }))).toBe(true);
    expect(isUndoKey(key("z", { metaKey: true }))).toBe(true);
    expect(isUndoKey(key("Z", { ctrlKey: true, shiftKey: true }))).toBe(false);
    expect(isUndoKey(key("z"))).toBe(false);
    expect(shortcutFor(key("z", { ctrlKey: true }))).toBeUndefined();
  });

  it("leaves keys with Ctrl, Meta or Alt, and other keys, to the browser", () => {
    expect(shortcutFor(key("+", { ctrlKey: true }))).toBeUndefined();
    expect(shortcutFor(key("0", { metaKey: true }))).toBeUndefined();
    expect(shortcutFor(key("h", { altKey: true }))).toBeUndefined();
    expect(shortcutFor(key("x"))).toBeUndefined();
  });
});
