import { describe, expect, it } from "vitest";
import { TokenBucket } from "./rate-limiter.js";

describe("TokenBucket", () => {
  it("says how long until a refused take would fit", () => {
    const bucket = new TokenBucket(10, 100, 0);
    bucket.take(100, 0);
    expect(bucket.waitMs(5, 200)).toBe(300);
    expect(bucket.waitMs(2, 200)).toBe(0);
  });

  it("allows the burst at once, then refuses without taking anything", () => {
    const bucket = new TokenBucket(10, 100, 0);
    expect(bucket.take(60, 0)).toBe(true);
    expect(bucket.take(50, 0)).toBe(false);
    expect(bucket.available(0)).toBe(40);
    expect(bucket.take(40, 0)).toBe(true);
  });

  it("refills at the sustained rate and caps at the burst", () => {
    const bucket = new TokenBucket(10, 100, 0);
    expect(bucket.take(100, 0)).toBe(true);
    expect(bucket.take(5, 400)).toBe(false); // 4 tokens after 400 ms
    expect(bucket.take(5, 500)).toBe(true); // 5 tokens after 500 ms
    expect(bucket.available(1_000_000)).toBe(100);
  });

  it("ignores a clock stepping backwards", () => {
    const bucket = new TokenBucket(10, 100, 1000);
    expect(bucket.take(100, 1000)).toBe(true);
    expect(bucket.available(0)).toBe(0);
    expect(bucket.available(1100)).toBeCloseTo(1);
  });
});
