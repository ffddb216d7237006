import { Gauge, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The process-wide Prometheus registry. Each service registers its own metrics
 * (canvas-metrics.ts, gateway-metrics.ts) here; names are prefixed `pixel_`.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: "pixel_process_" });

/** 1 while a Redis connection of this process is ready, 0 otherwise, by role (store, bus, presence). */
export const redisConnected = new Gauge({
  name: "pixel_redis_connected",
  help: "1 while the Redis connection with this role is ready, else 0.",
  labelNames: ["role"] as const,
  registers: [metricsRegistry],
});

/** Latency buckets in seconds, from 100 µs to 10 s, for RPC and fan-out histograms. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
