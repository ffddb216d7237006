import { Counter, Gauge, Histogram } from "prom-client";
import { LATENCY_BUCKETS, metricsRegistry } from "../shared/metrics.js";

const registers = [metricsRegistry];

/** Open WebSocket connections on this gateway. */
export const connectionsGauge = new Gauge({ name: "pixel_gateway_connections", help: "Open WebSocket connections.", registers });

/** WebSocket connections accepted. */
export const connectionsOpened = new Counter({ name: "pixel_gateway_connections_opened_total", help: "WebSocket connections accepted.", registers });

/** WebSocket connections closed, by close code. */
export const connectionsClosed = new Counter({
  name: "pixel_gateway_connections_closed_total",
  help: "WebSocket connections closed, by close code.",
  labelNames: ["code"] as const,
  registers,
});

/** Hellos that carried a last_seq, i.e. clients coming back after a disconnect. */
export const reconnects = new Counter({ name: "pixel_gateway_reconnects_total", help: "Hello frames with last_seq > 0.", registers });

/** Client frames received, by oneof case (or "malformed"). */
export const framesIn = new Counter({ name: "pixel_gateway_frames_in_total", help: "Client frames received, by type.", labelNames: ["type"] as const, registers });

/** Server frames written to sockets, by oneof case. */
export const framesOut = new Counter({ name: "pixel_gateway_frames_out_total", help: "Server frames written, by type.", labelNames: ["type"] as const, registers });

/** Pixels acknowledged to their placers (stored). */
export const pixelsPlaced = new Counter({ name: "pixel_gateway_pixels_placed_total", help: "Pixels acknowledged after SetPixels succeeded.", registers });

/** Pixels written to sockets: pixels of each batch times the sockets it went to. */
export const pixelsBroadcast = new Counter({ name: "pixel_gateway_pixels_broadcast_total", help: "Pixels x sockets written by the fan-out.", registers });

/** From a batch's time_unix_ms (stored) to the end of its socket writes on this gateway. */
export const fanoutLatency = new Histogram({
  name: "pixel_gateway_fanout_latency_seconds",
  help: "Time from a batch being stored to the end of its fan-out writes.",
  buckets: LATENCY_BUCKETS,
  registers,
});

/** Batches per fan-out frame: 1 is a `batch` frame, more a coalesced `batches` frame (one per room flush). */
export const fanoutFrameBatches = new Histogram({
  name: "pixel_gateway_fanout_frame_batches",
  help: "Batches per fan-out frame (per room flush).",
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
  registers,
});

/** Duration of each SetPixels attempt, by result ("ok" or the Connect code). */
export const setPixelsDuration = new Histogram({
  name: "pixel_gateway_setpixels_duration_seconds",
  help: "SetPixels attempt duration, by result.",
  labelNames: ["result"] as const,
  buckets: LATENCY_BUCKETS,
  registers,
});

/** Re-snapshots of a room (reason: gap, epoch, bus_reconnect, ...) and of a slow consumer (slow_consumer). */
export const resyncs = new Counter({ name: "pixel_gateway_resyncs_total", help: "Resyncs, by reason.", labelNames: ["reason"] as const, registers });

/** Error frames sent, by ErrorCode name. */
export const errorsSent = new Counter({ name: "pixel_gateway_errors_total", help: "Error frames sent, by code.", labelNames: ["code"] as const, registers });

/** Frames that could not be delivered (socket not open, slow consumer skipped). */
export const deliveryFailures = new Counter({
  name: "pixel_gateway_delivery_failures_total",
  help: "Frames not delivered to a socket, by reason.",
  labelNames: ["reason"] as const,
  registers,
});

/**
 * Why the gateway closed a socket by force (close frame, then terminated after a grace time):
 * too many refused or malformed frames, or frames held back during a join (1008); a send queue
 * over its cap or not draining while reads were paused, or a slow consumer that never caught up (4001).
 */
export type AbuseReason = "refused_frames" | "malformed_frames" | "deferred_frames" | "send_buffer_full" | "not_reading" | "slow_consumer";

/** Sockets closed by force by the gateway's own policy, by AbuseReason. */
export const abuseCloses = new Counter({ name: "pixel_gateway_abuse_closes_total", help: "Sockets closed by force, by reason.", labelNames: ["reason"] as const, registers });

/** Pixels waiting in the write queues of all canvases. */
export const writeQueuePixels = new Gauge({ name: "pixel_gateway_write_queue_pixels", help: "Pixels waiting for a SetPixels call.", registers });

/** The event loop's busy share over the last load-gauge window (room/load-gauge.ts), as last read. */
export const eventLoopUtilization = new Gauge({ name: "pixel_gateway_event_loop_utilization", help: "Share of the last load-gauge window the event loop was busy (0..1).", registers });

/** 1 while the gateway counts as under load, so rooms pace their flushes by the frame budget. */
export const underLoad = new Gauge({ name: "pixel_gateway_under_load", help: "1 while the fan-out frame budget applies (the gateway is under load), else 0.", registers });

/** Pre-bound children for the hot path, so the fan-out does no label hashing. */
export const batchFramesOut = framesOut.labels("batch");
/** Coalesced batch frames out, pre-bound. */
export const batchesFramesOut = framesOut.labels("batches");
/** Skipped sockets on the fan-out, pre-bound. */
export const slowConsumerSkips = deliveryFailures.labels("slow_consumer");
/** Frames refused because the socket's send buffer was at its hard cap (the socket is then closed), pre-bound. */
export const sendBufferFullSkips = deliveryFailures.labels("send_buffer_full");
/** Sockets no longer open at send time, pre-bound. */
export const notOpenSkips = deliveryFailures.labels("not_open");
/** Place frames in, pre-bound. */
export const placeFramesIn = framesIn.labels("place");
