import { describe, expect, it } from "vitest";
import { HdrHistogram, summarizeMicros } from "./hdr-histogram.js";

describe("HdrHistogram", () => {
  it("records values below 256 exactly", () => {
    const h = new HdrHistogram();
    for (let v = 0; v < 200; v++) h.record(v);
    expect(h.quantile(0.5)).toBe(99);
    expect(h.quantile(1)).toBe(199);
    expect(h.total).toBe(200);
  });

  it("keeps large values within 1 % of the truth", () => {
    const h = new HdrHistogram();
    const values = [300, 1_234, 56_789, 1_000_000, 35_000_000];
    for (const v of values) {
      h.reset();
      h.record(v);
      expect(Math.abs(h.quantile(0.5) - v) / v).toBeLessThan(0.01);
    }
  });

  it("gives percentiles of a uniform spread and merges counts", () => {
    const a = new HdrHistogram();
    const b = new HdrHistogram();
    for (let v = 1; v <= 5_000; v++) a.record(v);
    for (let v = 5_001; v <= 10_000; v++) b.record(v);
    a.add(b);
    const s = summarizeMicros(a);
    expect(s.count).toBe(10_000);
    expect(Math.abs(s.p50Ms - 5)).toBeLessThan(0.05);
    expect(Math.abs(s.p99Ms - 9.9)).toBeLessThan(0.1);
    expect(s.maxMs).toBe(10);
    const cdf = a.cdf();
    expect(cdf.at(-1)![1]).toBe(1);
  });

  it("rebuilds totals from posted counts", () => {
    const a = new HdrHistogram();
    for (let v = 0; v < 1_000; v += 10) a.record(v);
    const copy = new HdrHistogram(a.counts.slice());
    expect(copy.total).toBe(a.total);
    expect(copy.quantile(0.9)).toBe(a.quantile(0.9));
  });
});
