/** A display's refresh interval at 60 Hz, ms: the frame budget the timelapse goal names. */
export const REFRESH_MS = 1000 / 60;

/** What the frame times of one run say. */
export interface FrameStats {
  frames: number;
  /** Frames per second from the median interval between requestAnimationFrame callbacks. */
  medianFps: number;
  /** The "1% low": frames per second from the 99th-percentile interval. */
  p1LowFps: number;
  /** Refreshes that had no frame: an interval of n refresh periods dropped n - 1 of them. */
  dropped: number;
  /** The longest interval, ms. */
  worstMs: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Summarises the timestamps (ms) of successive requestAnimationFrame callbacks. */
export function frameStats(timestamps: readonly number[], refreshMs = REFRESH_MS): FrameStats {
  const intervals: number[] = [];
  for (let i = 1; i < timestamps.length; i++) intervals.push(timestamps[i]! - timestamps[i - 1]!);
  const sorted = [...intervals].sort((a, b) => a - b);
  let dropped = 0;
  for (const d of intervals) dropped += Math.max(0, Math.round(d / refreshMs) - 1);
  return {
    frames: intervals.length,
    medianFps: 1000 / percentile(sorted, 50),
    p1LowFps: 1000 / percentile(sorted, 99),
    dropped,
    worstMs: sorted.at(-1) ?? NaN,
  };
}
