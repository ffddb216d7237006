import { describe, expect, it } from "vitest";
import { LatencyHistogram, summarizeMicros } from "./latency-histogram.js";

describe("LatencyHistogram (hdr-histogram-js adapter)", () => {
  it("gives percentiles of a uniform spread within 0.1 % and summarises them in ms", () => {
    const h = LatencyHistogram.create();
    for (let v = 1; v <= 10_000; v++) h.record(v);
    const s = summarizeMicros(h);
    expect(s.count).toBe(10_000);
    expect(Math.abs(s.p50Ms - 5) / 5).toBeLessThan(0.001);
    expect(Math.abs(s.p99Ms - 9.9) / 9.9).toBeLessThan(0.001);
    expect(Math.abs(s.maxMs - 10) / 10).toBeLessThan(0.001);
  });

  it("survives encode and decode across threads and merges counts", () => {
    const a = LatencyHistogram.create();
    const b = LatencyHistogram.create();
    for (let v = 1; v <= 5_000; v++) a.record(v);
    for (let v = 5_001; v <= 10_000; v++) b.record(v);
    const merged = LatencyHistogram.create();
    merged.add(LatencyHistogram.decode(a.encode()));
    merged.add(LatencyHistogram.decode(b.encode()));
    expect(merged.total).toBe(10_000);
    expect(merged.quantile(0.5)).toBe(a.quantile(1));
  });

  it("records negative and fractional values as whole non-negative microseconds", () => {
    const h = LatencyHistogram.create();
    h.record(-3);
    h.record(2.6);
    expect(h.quantile(0)).toBe(0);
    expect(h.max).toBe(3);
  });

  it("reports zeros and an empty CDF when nothing was recorded, and a CDF ending at 1 otherwise", () => {
    const h = LatencyHistogram.create();
    expect(summarizeMicros(h)).toEqual({ count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 });
    expect(h.cdf()).toEqual([]);
    for (let v = 1; v <= 1_000; v++) h.record(v * 10);
    const cdf = h.cdf();
    expect(cdf.at(-1)).toEqual([h.max, 1]);
    expect(cdf.every(([v, f], i) => i === 0 || (v > cdf[i - 1]![0] && f >= cdf[i - 1]![1]))).toBe(true);
  });
});
