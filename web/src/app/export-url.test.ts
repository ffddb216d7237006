import { describe, expect, it } from "vitest";
import { exportFileName, exportUrl } from "./export-url.js";

describe("the PNG export link", () => {
  it("names the whole canvas now, a region, and a past seq", () => {
    expect(exportUrl("main", {})).toBe("/api/export/main.png");
    expect(exportUrl("a b", { rect: { x: 1, y: 2, width: 30, height: 40 }, atSeq: 77 })).toBe("/api/export/a%20b.png?x=1&y=2&w=30&h=40&seq=77");
    expect(exportFileName("main", {})).toBe("main.png");
    expect(exportFileName("main", { rect: { x: 1, y: 2, width: 30, height: 40 }, atSeq: 77 })).toBe("main-1_2_30x40-seq77.png");
  });
});
