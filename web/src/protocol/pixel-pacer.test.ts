import { describe, expect, it } from "vitest";
import { PixelPacer } from "./pixel-pacer.js";

describe("PixelPacer", () => {
  it("grants the burst at once, then refills at the sustained rate", () => {
    let now = 0;
    const pacer = new PixelPacer(100, 50, () => now);
    expect(pacer.take(80)).toBe(50);
    expect(pacer.take(1)).toBe(0);
    now += 100;
    expect(pacer.take(80)).toBe(10);
    now += 10_000;
    expect(pacer.take(80)).toBe(50);
  });

  it("takes back refunded tokens up to the burst and adopts a new rate", () => {
    let now = 0;
    const pacer = new PixelPacer(100, 20, () => now);
    expect(pacer.take(20)).toBe(20);
    pacer.refund(30);
    expect(pacer.take(100)).toBe(20);
    pacer.configure(1000, 200);
    now += 100;
    expect(pacer.take(500)).toBe(100);
  });
});
