import { describe, expect, it } from "vitest";
import { canvasFromLocation, canvasPath, isCanvasName } from "./canvas-path.js";

describe("canvasFromLocation", () => {
  it("reads the canvas from /c/<name>, with or without a trailing slash, ignoring the view query", () => {
    expect(canvasFromLocation("/c/big", "?x=10&y=20&zoom=4")).toBe("big");
    expect(canvasFromLocation("/c/big/", "")).toBe("big");
  });

  it("falls back to ?canvas= and then to the default canvas (empty)", () => {
    expect(canvasFromLocation("/", "?canvas=art&zoom=2")).toBe("art");
    expect(canvasFromLocation("/", "?zoom=2")).toBe("");
    expect(canvasFromLocation("/c/", "")).toBe("");
  });

  it("passes an impossible name through so the service can answer NOT_FOUND", () => {
    expect(canvasFromLocation("/c/No%20Such", "")).toBe("No Such");
  });
});

describe("canvasPath", () => {
  it("links the default canvas to the root and others to /c/<name>", () => {
    expect(canvasPath("default")).toBe("/");
    expect(canvasPath("")).toBe("/");
    expect(canvasPath("big")).toBe("/c/big");
    expect(isCanvasName("big-2")).toBe(true);
    expect(isCanvasName("Big")).toBe(false);
  });
});
