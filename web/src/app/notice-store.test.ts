import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NOTICE_VISIBLE_MS } from "../protocol/timing.js";
import { NoticeStore, type Notice } from "./notice-store.js";

describe("NoticeStore", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("counts repeats of a visible text, keeps at most four, and hides each after NOTICE_VISIBLE_MS", () => {
    let shown: readonly Notice[] = [];
    const store = new NoticeStore((n) => (shown = n));
    store.push("error", "Rate limited");
    store.push("error", "Rate limited");
    expect(shown.map((n) => [n.text, n.count])).toEqual([["Rate limited", 2]]);
    for (const t of ["a", "b", "c", "d"]) store.push("info", t);
    expect(shown.map((n) => n.text)).toEqual(["a", "b", "c", "d"]);
    vi.advanceTimersByTime(NOTICE_VISIBLE_MS);
    expect(shown).toEqual([]);
  });
});
