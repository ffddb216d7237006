import { describe, expect, it } from "vitest";
import { parseCanvasList } from "./canvas-list.js";

describe("parseCanvasList", () => {
  it("reads name and size of each canvas, leaving out entries without a name", () => {
    const body = { canvases: [{ name: "big", width: 2048, height: 2048, seq: "3" }, { name: "default", width: 50, height: 50 }, { width: 1 }] };
    expect(parseCanvasList(body)).toEqual([
      { name: "big", width: 2048, height: 2048 },
      { name: "default", width: 50, height: 50 },
    ]);
  });

  it("answers an empty list for a body that is not a canvas list", () => {
    expect(parseCanvasList(null)).toEqual([]);
    expect(parseCanvasList({})).toEqual([]);
  });
});
