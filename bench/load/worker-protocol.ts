import type { ClientOptions, Target } from "./bench-client.js";
import type { SharedBuffers } from "./shared-state.js";

/** One client a worker should open. */
export interface ClientSpec {
  index: number;
  url: string;
  /** Steady clients stay for the whole run and are loss-counted. */
  steady: boolean;
}

/** A writer and its pixel rate. */
export interface WriterSpec {
  index: number;
  pixelsPerSecond: number;
}

/** Requests from the main thread to a load worker. */
export type WorkerRequest =
  | { type: "init"; target: Target; buffers: SharedBuffers; options: ClientOptions; width: number; height: number }
  | { type: "connect"; clients: ClientSpec[]; concurrency: number }
  | { type: "phase"; phase: number; writers: WriterSpec[] }
  | { type: "stop" }
  | { type: "churn"; urls: string[]; perSecond: number; lifetimeMs: number; firstIndex: number }
  | { type: "stop-churn" }
  | { type: "report" }
  | { type: "close" };

/** What a connect request achieved. */
export interface ConnectResult {
  ok: number;
  failed: number;
  firstError: string | undefined;
}

/** Everything a worker measured since the last phase start. */
export interface WorkerReport {
  /** Histograms in hdr-histogram-js's compressed encoding (LatencyHistogram.encode). */
  latency: string;
  ackLatency: string;
  connectLatency: string;
  frames: number;
  /** Frames decoded in full (the rest were scanned in place). */
  decodedFrames: number;
  bytes: number;
  pixels: number;
  unknownPixels: number;
  seqGaps: number;
  seqDuplicates: number;
  resyncs: number;
  errorsByCode: Record<string, number>;
  unexpectedCloses: number;
  /** Pixels each steady reader received in the phase. */
  received: number[];
  sent: number;
  churnConnects: number;
  churnFailures: number;
  /** How far the send loop fell behind its schedule at worst, in ms. */
  maxSendLagMs: number;
}

/** A request with the id its reply carries. */
export interface WorkerEnvelope {
  id: number;
  request: WorkerRequest;
}

/** A worker's reply. */
export interface WorkerReply {
  id: number;
  result?: unknown;
  error?: string;
}
