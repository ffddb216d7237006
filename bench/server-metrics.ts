/**
 * Reads the services' own latency histograms from their /metrics endpoints before and after a
 * phase, so a result can split our end-to-end latency into hops: the gateway's SetPixels round
 * trip, the canvas service's SetPixels handling, and the gateway's publish → socket-write fan-out.
 */

/** The Prometheus histograms read, by the name the result uses. */
const HISTOGRAMS: Record<string, string> = {
  gatewaySetPixels: "pixel_gateway_setpixels_duration_seconds",
  canvasSetPixels: "pixel_canvas_setpixels_duration_seconds",
  gatewayFanout: "pixel_gateway_fanout_latency_seconds",
};

/** One endpoint to scrape. */
export interface MetricsEndpoint {
  role: string;
  url: string;
}

/** Sum and count of each histogram, summed over every label set. */
export type MetricsSnapshot = Record<string, { sum: number; count: number }>;

/** Mean of each histogram over a phase, summed over the endpoints that have it. */
export type ServerLatency = Record<string, { count: number; meanMs: number }>;

/** Parses `<name>_sum` and `<name>_count` lines of the histograms we read. */
export function parseHistogramTotals(text: string): MetricsSnapshot {
  const out: MetricsSnapshot = {};
  for (const line of text.split("\n")) {
    for (const [key, name] of Object.entries(HISTOGRAMS)) {
      const m = new RegExp(`^${name}_(sum|count)(\\{[^}]*\\})? ([0-9.eE+-]+)$`).exec(line);
      if (!m) continue;
      const entry = (out[key] ??= { sum: 0, count: 0 });
      if (m[1] === "sum") entry.sum += Number(m[3]);
      else entry.count += Number(m[3]);
    }
  }
  return out;
}

/** Scrapes every endpoint; one that does not answer contributes nothing. */
export async function scrape(endpoints: MetricsEndpoint[]): Promise<MetricsSnapshot> {
  const total: MetricsSnapshot = {};
  await Promise.all(endpoints.map(async (e) => {
    try {
      const res = await fetch(e.url, { signal: AbortSignal.timeout(2000) });
      for (const [k, v] of Object.entries(parseHistogramTotals(await res.text()))) {
        const t = (total[k] ??= { sum: 0, count: 0 });
        t.sum += v.sum;
        t.count += v.count;
      }
    } catch {
      // A replica that cannot answer is reported by the phase's process list instead.
    }
  }));
  return total;
}

/** The mean of each histogram between two snapshots. */
export function latencyBetween(before: MetricsSnapshot, after: MetricsSnapshot): ServerLatency {
  const out: ServerLatency = {};
  for (const [k, a] of Object.entries(after)) {
    const b = before[k] ?? { sum: 0, count: 0 };
    const count = a.count - b.count;
    if (count > 0) out[k] = { count, meanMs: Math.round(((a.sum - b.sum) / count) * 1e6) / 1000 };
  }
  return out;
}
