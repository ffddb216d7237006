import { Worker } from "node:worker_threads";
import { LatencyHistogram } from "../latency-histogram.js";
import type { ClientOptions, Target } from "./bench-client.js";
import { SharedState } from "./shared-state.js";
import type { ClientSpec, ConnectResult, WorkerEnvelope, WorkerReply, WorkerReport, WorkerRequest, WriterSpec } from "./worker-protocol.js";

/** Merged measurements of every worker for one phase: a WorkerReport with its histograms decoded. */
export type PoolReport = Omit<WorkerReport, "latency" | "ackLatency" | "connectLatency"> & {
  latency: LatencyHistogram;
  ackLatency: LatencyHistogram;
  connectLatency: LatencyHistogram;
};

class WorkerHandle {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly worker: Worker) {
    worker.on("message", (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.error !== undefined) p.reject(new Error(reply.error));
      else p.resolve(reply.result);
    });
    worker.on("error", (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  call<T>(request: WorkerRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const envelope: WorkerEnvelope = { id, request };
      this.worker.postMessage(envelope);
    });
  }
}

/**
 * The load generator seen from the main thread: `workers` threads sharing one send
 * ring, each owning every workers-th client. Clients are spread round-robin over
 * the workers and over the gateway URLs.
 */
export class LoadPool {
  readonly shared = SharedState.create();
  private readonly handles: WorkerHandle[];
  private phase = 0;

  private constructor(workers: Worker[]) {
    this.handles = workers.map((w) => new WorkerHandle(w));
  }

  /** Starts the worker threads. */
  static async start(target: Target, workers: number, options: ClientOptions, width: number, height: number): Promise<LoadPool> {
    const url = new URL("./load-worker.js", import.meta.url);
    const pool = new LoadPool(Array.from({ length: workers }, () => new Worker(url)));
    await Promise.all(pool.handles.map((h) => h.call({ type: "init", target, buffers: pool.shared.buffers, options, width, height })));
    return pool;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.handles.length;
  }

  /** Opens clients `first`..`first+count-1`, client i on gateway i mod N and worker i mod W. */
  async connect(first: number, count: number, urls: string[], steady: boolean, concurrencyPerWorker: number): Promise<ConnectResult> {
    const perWorker: ClientSpec[][] = this.handles.map(() => []);
    for (let i = first; i < first + count; i++) perWorker[i % this.handles.length]!.push({ index: i, url: urls[i % urls.length]!, steady });
    const results = await Promise.all(this.handles.map((h, w) => h.call<ConnectResult>({ type: "connect", clients: perWorker[w]!, concurrency: concurrencyPerWorker })));
    return results.reduce((a, b) => ({ ok: a.ok + b.ok, failed: a.failed + b.failed, firstError: a.firstError ?? b.firstError }), { ok: 0, failed: 0, firstError: undefined });
  }

  /** Starts a measured phase: counters reset, and writers send at their rates. */
  async startPhase(writers: WriterSpec[]): Promise<number> {
    this.phase++;
    this.shared.resetPhase();
    await Promise.all(this.handles.map((h, w) => h.call({ type: "phase", phase: this.phase, writers: writers.filter((s) => s.index % this.handles.length === w) })));
    return this.phase;
  }

  /** Stops every writer; returns the pixels sent in the phase. */
  async stopSending(): Promise<number> {
    const sent = await Promise.all(this.handles.map((h) => h.call<number>({ type: "stop" })));
    return sent.reduce((a, b) => a + b, 0);
  }

  /** Starts churn: `perSecond` connects in total, each client staying `lifetimeMs`. Spread over workers. */
  async startChurn(urls: string[], perSecond: number, lifetimeMs: number, firstIndex: number): Promise<void> {
    const n = this.handles.length;
    await Promise.all(this.handles.map((h, w) => h.call({ type: "churn", urls, perSecond: perSecond / n, lifetimeMs, firstIndex: firstIndex + w * 10_000_000 })));
  }

  /** Stops opening churn clients (open ones close at the end of their lifetime). */
  async stopChurn(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.call({ type: "stop-churn" })));
  }

  /** Merges every worker's measurements of the current phase. */
  async report(): Promise<PoolReport> {
    const reports = await Promise.all(this.handles.map((h) => h.call<WorkerReport>({ type: "report" })));
    const out: PoolReport = {
      latency: LatencyHistogram.create(), ackLatency: LatencyHistogram.create(), connectLatency: LatencyHistogram.create(),
      frames: 0, decodedFrames: 0, bytes: 0, pixels: 0, unknownPixels: 0, seqGaps: 0, seqDuplicates: 0, resyncs: 0,
      errorsByCode: {}, unexpectedCloses: 0, received: [], sent: 0, churnConnects: 0, churnFailures: 0, maxSendLagMs: 0,
    };
    for (const r of reports) {
      out.latency.add(LatencyHistogram.decode(r.latency));
      out.ackLatency.add(LatencyHistogram.decode(r.ackLatency));
      out.connectLatency.add(LatencyHistogram.decode(r.connectLatency));
      out.frames += r.frames;
      out.decodedFrames += r.decodedFrames;
      out.bytes += r.bytes;
      out.pixels += r.pixels;
      out.unknownPixels += r.unknownPixels;
      out.seqGaps += r.seqGaps;
      out.seqDuplicates += r.seqDuplicates;
      out.resyncs += r.resyncs;
      out.unexpectedCloses += r.unexpectedCloses;
      out.received.push(...r.received);
      out.sent += r.sent;
      out.churnConnects += r.churnConnects;
      out.churnFailures += r.churnFailures;
      out.maxSendLagMs = Math.max(out.maxSendLagMs, r.maxSendLagMs);
      for (const [code, n] of Object.entries(r.errorsByCode)) out.errorsByCode[code] = (out.errorsByCode[code] ?? 0) + n;
    }
    return out;
  }

  /** Closes every client and stops the threads. */
  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.call({ type: "close" }).catch(() => undefined)));
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}
