/**
 * An HDR-style log-linear histogram of non-negative integers (microseconds here):
 * exact below 256, then 128 linear sub-buckets per power of two (< 0.8 % error),
 * up to 2^31. Recording is O(1) and allocates nothing.
 */

/** Values below this are recorded exactly. */
const EXACT = 256;
/** Sub-buckets per power of two above EXACT. */
const SUB = 128;
const SUB_SHIFT = 7;
/** Highest recordable value; larger ones are clamped. */
export const HISTOGRAM_MAX = 2 ** 31 - 1;
/** Number of buckets (exact range plus 23 octaves of SUB). */
export const HISTOGRAM_BUCKETS = EXACT + (31 - 8) * SUB;

function bucketOf(value: number): number {
  if (value < EXACT) return value;
  const msb = 31 - Math.clz32(value);
  const shift = msb - SUB_SHIFT;
  return EXACT + (msb - 8) * SUB + ((value >>> shift) - SUB);
}

/** The lowest value that lands in a bucket. */
function lowOf(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const octave = Math.floor((bucket - EXACT) / SUB);
  const shift = octave + 1;
  return ((bucket - EXACT - octave * SUB) + SUB) * 2 ** shift;
}

/** Bucket counts; a plain typed array so worker threads can post and merge them. */
export class HdrHistogram {
  readonly counts: Float64Array;
  total = 0;
  max = 0;
  min = Number.POSITIVE_INFINITY;
  sum = 0;

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(HISTOGRAM_BUCKETS);
    if (counts) this.recount();
  }

  /** Records one value (rounded, clamped to 0..HISTOGRAM_MAX). */
  record(value: number): void {
    const v = value <= 0 ? 0 : value >= HISTOGRAM_MAX ? HISTOGRAM_MAX : Math.round(value);
    this.counts[bucketOf(v)]!++;
    this.total++;
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
  }

  /** Adds another histogram's counts into this one. */
  add(other: HdrHistogram): void {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
    if (other.min < this.min) this.min = other.min;
  }

  /** Clears every count. */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.max = 0;
    this.min = Number.POSITIVE_INFINITY;
  }

  /** The value at quantile q (0..1): the upper edge of the bucket holding it, capped at max. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(i + 1 < HISTOGRAM_BUCKETS ? lowOf(i + 1) - 1 : HISTOGRAM_MAX, this.max);
    }
    return this.max;
  }

  /** Mean of the recorded values. */
  mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** Non-empty buckets as [upper value, cumulative fraction], for a CDF chart. */
  cdf(): Array<[number, number]> {
    const points: Array<[number, number]> = [];
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      seen += c;
      points.push([Math.min(i + 1 < HISTOGRAM_BUCKETS ? lowOf(i + 1) - 1 : HISTOGRAM_MAX, this.max), seen / this.total]);
    }
    return points;
  }

  private recount(): void {
    this.total = 0;
    this.sum = 0;
    this.max = 0;
    this.min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      const lo = lowOf(i);
      const hi = i + 1 < HISTOGRAM_BUCKETS ? lowOf(i + 1) - 1 : HISTOGRAM_MAX;
      this.total += c;
      this.sum += c * (lo + hi) / 2;
      if (hi > this.max) this.max = hi;
      if (lo < this.min) this.min = lo;
    }
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
export function summarizeMicros(h: HdrHistogram): LatencySummary {
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
