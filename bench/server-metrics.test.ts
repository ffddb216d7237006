import { describe, expect, it } from "vitest";
import { latencyBetween, parseHistogramTotals } from "./server-metrics.js";

describe("server metrics", () => {
  it("sums a histogram's sum and count over label sets and takes the mean between snapshots", () => {
    const before = parseHistogramTotals([
      'pixel_gateway_setpixels_duration_seconds_sum{result="ok"} 1.5',
      'pixel_gateway_setpixels_duration_seconds_count{result="ok"} 100',
      "pixel_canvas_setpixels_duration_seconds_bucket{le=\"0.001\"} 3",
    ].join("\n"));
    const after = parseHistogramTotals([
      'pixel_gateway_setpixels_duration_seconds_sum{result="ok"} 2.5',
      'pixel_gateway_setpixels_duration_seconds_count{result="ok"} 150',
      'pixel_gateway_setpixels_duration_seconds_sum{result="unavailable"} 0.5',
      'pixel_gateway_setpixels_duration_seconds_count{result="unavailable"} 10',
      "pixel_gateway_fanout_latency_seconds_sum 0.02",
      "pixel_gateway_fanout_latency_seconds_count 4",
    ].join("\n"));
    expect(latencyBetween(before, after)).toEqual({
      gatewaySetPixels: { count: 60, meanMs: 25 },
      gatewayFanout: { count: 4, meanMs: 5 },
    });
  });
});
