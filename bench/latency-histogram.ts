import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, initWebAssembly, type Histogram } from "hdr-histogram-js";

/** Highest latency tracked, in microseconds (one hour); the histogram still resizes past it. */
const HIGHEST_TRACKABLE_US = 3_600_000_000;
/** Three significant digits: every percentile within 0.1 % of the true value. */
const SIGNIFICANT_DIGITS = 3;
/** Percentiles a CDF chart samples: dense in the body, then ever closer to 100 in the tail. */
const CDF_PERCENTILES: number[] = (() => {
  const out: number[] = [];
  for (let p = 0; p < 90; p += 0.5) out.push(p);
  // 90-99, 99-99.9, 99.9-99.99, 99.99-100: 45 points in each.
  for (let decade = 1; decade <= 4; decade++) {
    const from = 100 - 10 ** (2 - decade);
    const width = 10 ** (2 - decade) - 10 ** (1 - decade);
    for (let k = 0; k < 45; k++) out.push(from + (width * k) / 45);
  }
  out.push(100);
  return out;
})();

/** Whether this thread builds the library's WebAssembly histograms (after useWebAssembly()). */
let wasm = false;

function fresh(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: SIGNIFICANT_DIGITS, autoResize: true, useWebAssembly: wasm });
}

/**
 * Latencies in microseconds, recorded into an HdrHistogram from `hdr-histogram-js`. A thin
 * adapter: one place that picks the histogram's precision, rounds and clamps what is recorded,
 * and moves a histogram between worker threads as the library's compressed encoding. A thread
 * that records on its hot path (a load worker: one record per delivered pixel) calls
 * `useWebAssembly()` first and gets the library's WebAssembly histograms, whose `recordValue`
 * measured 17-24 ns against 110 ns for the JavaScript ones; their encoding is the same, so the
 * main thread merges them as before.
 */
export class LatencyHistogram {
  private constructor(private readonly h: Histogram) {}

  /** From now on this thread creates and decodes WebAssembly histograms (loads the library's module once). */
  static async useWebAssembly(): Promise<void> {
    await initWebAssembly();
    wasm = true;
  }

  /** An empty histogram. */
  static create(): LatencyHistogram {
    return new LatencyHistogram(fresh());
  }

  /** A histogram from `encode()`'s output (posted from another thread). */
  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(decodeFromCompressedBase64(encoded, 32, wasm) as Histogram);
  }

  /** Records one latency in microseconds (rounded; negative values, from clock skew, count as 0). */
  record(micros: number): void {
    this.h.recordValue(micros <= 0 ? 0 : Math.round(micros));
  }

  /** Adds another histogram's counts into this one. */
  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  /** Clears every count. */
  reset(): void {
    this.h.reset();
  }

  /** Values recorded. */
  get total(): number {
    return this.h.totalCount;
  }

  /** Largest value recorded (0 when empty), at the histogram's precision. */
  get max(): number {
    return this.h.totalCount === 0 ? 0 : this.h.maxValue;
  }

  /** The value at quantile q (0..1), 0 when empty. */
  quantile(q: number): number {
    return this.h.totalCount === 0 ? 0 : this.h.getValueAtPercentile(q * 100);
  }

  /** Mean of the recorded values. */
  mean(): number {
    return this.h.totalCount === 0 ? 0 : this.h.mean;
  }

  /** [value, cumulative fraction] at percentiles from 0 to 100, ascending, for a CDF chart. */
  cdf(): Array<[number, number]> {
    if (this.h.totalCount === 0) return [];
    const points: Array<[number, number]> = [];
    for (const p of CDF_PERCENTILES) {
      const v = Math.min(this.h.getValueAtPercentile(p), this.h.maxValue);
      if (points.length > 0 && points.at(-1)![0] === v) points.at(-1)![1] = p / 100;
      else points.push([v, p / 100]);
    }
    return points;
  }

  /** The library's compressed base64 form, for posting to another thread. */
  encode(): string {
    return encodeIntoCompressedBase64(this.h);
  }
}

/** Latency percentiles in milliseconds, as every result file reports them. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Summarises a histogram of microseconds in milliseconds. */
export function summarizeMicros(h: LatencyHistogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.total,
    meanMs: ms(h.mean()),
    p50Ms: ms(h.quantile(0.5)),
    p95Ms: ms(h.quantile(0.95)),
    p99Ms: ms(h.quantile(0.99)),
    p999Ms: ms(h.quantile(0.999)),
    maxMs: ms(h.max),
  };
}
