import { describe, expect, it } from "vitest";
import { LatencyHistogram, summarizeMicros } from "./latency-histogram.js";

/** Its own file: useWebAssembly() switches the whole thread (module) to WebAssembly histograms. */
describe("LatencyHistogram on the library's WebAssembly histograms (load workers)", () => {
  it("records, summarises, encodes and merges exactly as the JavaScript histograms do", async () => {
    const values = Array.from({ length: 20_000 }, (_, i) => (i * 7919) % 250_000);
    const js = LatencyHistogram.create();
    for (const v of values) js.record(v);
    const fromJs = js.encode();
    await LatencyHistogram.useWebAssembly();
    const wasm = LatencyHistogram.create();
    for (const v of values) wasm.record(v);
    expect(summarizeMicros(wasm)).toEqual(summarizeMicros(js));
    // Encodings of either kind decode and merge (the main thread merges what the workers post).
    const merged = LatencyHistogram.create();
    merged.add(LatencyHistogram.decode(wasm.encode()));
    merged.add(LatencyHistogram.decode(fromJs));
    expect(merged.total).toBe(40_000);
    expect(merged.quantile(0.99)).toBe(js.quantile(0.99));
    wasm.reset();
    expect(wasm.total).toBe(0);
  });
});
