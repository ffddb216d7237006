import { describe, expect, it } from "vitest";
import { hasViewParams, parseViewParams, viewFromParams, withViewParams } from "./view-url.js";

describe("reading the view from a link", () => {
  it("reads x, y and zoom", () => {
    expect(parseViewParams("?x=120.5&y=40&zoom=8")).toEqual({ x: 120.5, y: 40, zoom: 8 });
  });

  it("leaves out values that are missing, not plain numbers, or out of range", () => {
    expect(parseViewParams("")).toEqual({});
    expect(parseViewParams("?x=&y=%2012&zoom=abc")).toEqual({});
    expect(parseViewParams("?x=1e3&y=Infinity&zoom=NaN")).toEqual({});
    expect(parseViewParams("?x=-1&y=9000&zoom=65")).toEqual({});
    expect(parseViewParams("?x=8000&y=5000")).toEqual({ x: 8000, y: 5000 });
    expect(parseViewParams("?x=0x10&y=12&zoom=0")).toEqual({ y: 12 });
    expect(hasViewParams(parseViewParams("?x=oops"))).toBe(false);
  });

  it("keeps the valid values when others are bad", () => {
    const params = parseViewParams("?x=10&y=bad&zoom=2");
    expect(params).toEqual({ x: 10, zoom: 2 });
    expect(hasViewParams(params)).toBe(true);
    expect(viewFromParams(params, { x: 25, y: 25, zoom: 12 })).toEqual({ x: 10, y: 25, zoom: 2 });
  });
});

describe("writing the view into the link", () => {
  it("writes short numbers and keeps other parameters", () => {
    expect(withViewParams("?canvas=art", { x: 12.3456, y: 7, zoom: 2.123456 })).toBe("?canvas=art&x=12.35&y=7&zoom=2.123");
  });

  it("replaces an earlier view", () => {
    expect(withViewParams("?x=1&y=2&zoom=3", { x: 4, y: 5, zoom: 6 })).toBe("?x=4&y=5&zoom=6");
  });

  it("removes the view for the fitted view, leaving an empty query when nothing else is there", () => {
    expect(withViewParams("?canvas=art&x=1&y=2&zoom=3", undefined)).toBe("?canvas=art");
    expect(withViewParams("?x=1&y=2&zoom=3", undefined)).toBe("");
  });

  it("reads back what it wrote", () => {
    const view = { x: 1023.5, y: 17.254, zoom: 0.375 };
    expect(parseViewParams(withViewParams("", view))).toEqual({ x: 1023.5, y: 17.25, zoom: 0.375 });
  });
});
