import { Counter, Gauge, Histogram } from "prom-client";
import { LATENCY_BUCKETS, metricsRegistry } from "../shared/metrics.js";

/** SetPixels latency in seconds, from request to stored (or refused), by result ("ok" or an error code). */
export const setPixelsDuration = new Histogram({
  name: "pixel_canvas_setpixels_duration_seconds",
  help: "SetPixels latency from request to stored or refused, by result (ok or the error code).",
  labelNames: ["result"] as const,
  buckets: LATENCY_BUCKETS,
  registers: [metricsRegistry],
});

/** Pixels written by accepted SetPixels calls. */
export const pixelsStored = new Counter({
  name: "pixel_canvas_pixels_stored_total",
  help: "Pixels written by accepted SetPixels calls.",
  registers: [metricsRegistry],
});

/** Batches stored, one per accepted SetPixels call. */
export const batchesStored = new Counter({
  name: "pixel_canvas_batches_stored_total",
  help: "Batches stored, one per accepted SetPixels call.",
  registers: [metricsRegistry],
});

/** RPCs that ended in an error, by method and Connect code (snake case, as in gRPC). */
export const rpcErrors = new Counter({
  name: "pixel_canvas_rpc_errors_total",
  help: "RPCs that ended in an error, by method and code.",
  labelNames: ["method", "code"] as const,
  registers: [metricsRegistry],
});

/** Open WatchCanvas streams. */
export const watchStreams = new Gauge({
  name: "pixel_canvas_watch_streams",
  help: "Open WatchCanvas streams.",
  registers: [metricsRegistry],
});

export const writeStreams = new Gauge({
  name: "pixel_canvas_write_streams",
  help: "Open WritePixels streams (one per gateway process, normally).",
  registers: [metricsRegistry],
});

/** Tile images answered over HTTP, by level and status (200, 304, 404, 503, ...): 304s show revalidations a cache saved. */
export const tileResponses = new Counter({
  name: "pixel_canvas_tile_responses_total",
  help: "Tile images answered over HTTP, by level and status.",
  labelNames: ["level", "status"] as const,
  registers: [metricsRegistry],
});
