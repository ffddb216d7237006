/**
 * A load-generator thread: it owns a share of the clients, paces their writes from
 * a timer, reads their frames, and answers requests from the main thread (LoadPool).
 */
import { parentPort } from "node:worker_threads";
import { openClient, type BenchClient, type ClientOptions, type Target } from "./bench-client.js";
import { now } from "./clock.js";
import { openOutsiderClient } from "./outsider-client.js";
import { ReaderStats } from "./reader-stats.js";
import { SharedState } from "./shared-state.js";
import { LatencyHistogram } from "../latency-histogram.js";
import type { ClientSpec, ConnectResult, WorkerEnvelope, WorkerReport, WorkerRequest, WriterSpec } from "./worker-protocol.js";

/** Send loop period: short enough to spread each writer's pixels, long enough to batch timer work. */
const TICK_MS = 5;

interface Writer {
  client: BenchClient;
  rate: number;
  sent: number;
  /** Random phase offset, so writers do not all send on the same tick. */
  offset: number;
}

let target: Target = "legacy";
let shared: SharedState | undefined;
let options: ClientOptions = { method: "outsider" };
let width = 50;
let height = 50;
let stats: ReaderStats | undefined;
const clients = new Map<number, BenchClient>();
let steadyCount = 0;
/** Steady slots whose client connected; a client that failed to connect is no reader. */
const steadyConnected: number[] = [];
let writers: Writer[] = [];
let sendTimer: NodeJS.Timeout | undefined;
let phase = 0;
let phaseStart = 0;
let sentInPhase = 0;
/** Outsider method: the next writer to take a turn, and the rate of all this thread's writers. */
let nextWriter = 0;
let totalRate = 0;
let rotationOffset = 0;
let maxSendLagMs = 0;
let churnTimer: NodeJS.Timeout | undefined;
const churnClients = new Set<BenchClient>();
let churnConnects = 0;
let churnFailures = 0;

async function connect(specs: ClientSpec[], concurrency: number): Promise<ConnectResult> {
  const result: ConnectResult = { ok: 0, failed: 0, firstError: undefined };
  let next = 0;
  const runOne = async (): Promise<void> => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const steadyIndex = spec.steady ? steadyCount++ : -1;
      if (spec.steady && stats!.received.length < steadyCount) {
        const grown = new Int32Array(Math.max(steadyCount, stats!.received.length * 2));
        grown.set(stats!.received);
        stats!.received = grown;
      }
      const client = open(spec.url, spec.index, steadyIndex);
      try {
        await client.ready;
        clients.set(spec.index, client);
        if (steadyIndex >= 0) steadyConnected.push(steadyIndex);
        result.ok++;
      } catch (err) {
        result.failed++;
        result.firstError ??= (err as Error).message;
        client.terminate();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, runOne));
  return result;
}

/** Opens a client of the configured method. */
function open(url: string, index: number, steadyIndex: number): BenchClient {
  return options.method === "outsider" ? openOutsiderClient(target, url, index, steadyIndex, stats!) : openClient(target, url, index, steadyIndex, stats!);
}

function sendOne(w: Writer): void {
  const id = shared!.claim(w.client.index, phase, now());
  w.client.place(id % width, Math.floor(id / width) % height, id);
  w.sent++;
  sentInPhase++;
}

/** Outsider method: one schedule at the thread's total rate, each pixel from the next writer in turn. */
function tickRotating(): void {
  const elapsed = (now() - phaseStart) / 1000;
  const due = Math.floor(totalRate * elapsed + rotationOffset) - sentInPhase;
  if (due > 1) maxSendLagMs = Math.max(maxSendLagMs, ((due - 1) / totalRate) * 1000);
  for (let k = 0; k < due; k++) sendOne(writers[nextWriter++ % writers.length]!);
}

/** Scanner method: every writer on its own schedule at its own rate, with a random phase offset. */
function tick(): void {
  const t = now();
  const elapsed = (t - phaseStart) / 1000;
  for (const w of writers) {
    const due = Math.floor(w.rate * elapsed + w.offset) - w.sent;
    if (due > 1) maxSendLagMs = Math.max(maxSendLagMs, ((due - 1) / w.rate) * 1000);
    for (let k = 0; k < due; k++) sendOne(w);
  }
}

function startPhase(nextPhase: number, specs: WriterSpec[]): void {
  stopSending();
  phase = nextPhase;
  stats!.reset(phase);
  sentInPhase = 0;
  maxSendLagMs = 0;
  churnConnects = 0;
  churnFailures = 0;
  writers = specs.flatMap((s) => {
    const client = clients.get(s.index);
    return client && s.pixelsPerSecond > 0 ? [{ client, rate: s.pixelsPerSecond, sent: 0, offset: Math.random() }] : [];
  });
  totalRate = writers.reduce((a, w) => a + w.rate, 0);
  nextWriter = 0;
  rotationOffset = Math.random();
  phaseStart = now();
  if (writers.length > 0) sendTimer = setInterval(options.method === "outsider" ? tickRotating : tick, TICK_MS);
}

function stopSending(): void {
  if (sendTimer) clearInterval(sendTimer);
  sendTimer = undefined;
}

function startChurn(urls: string[], perSecond: number, lifetimeMs: number, firstIndex: number): void {
  let n = 0;
  churnTimer = setInterval(() => {
    const index = firstIndex + n;
    const url = urls[n++ % urls.length]!;
    const client = open(url, index, -1);
    churnClients.add(client);
    client.ready.then(() => {
      churnConnects++;
      setTimeout(() => {
        client.close();
        churnClients.delete(client);
      }, lifetimeMs);
    }, () => {
      churnFailures++;
      churnClients.delete(client);
      client.terminate();
    });
  }, 1000 / perSecond);
}

function report(): WorkerReport {
  const s = stats!;
  return {
    latency: s.latency.encode(),
    ackLatency: s.ackLatency.encode(),
    connectLatency: s.connectLatency.encode(),
    frames: s.frames,
    decodedFrames: s.decodedFrames,
    bytes: s.bytes,
    pixels: s.pixels,
    unknownPixels: s.unknownPixels,
    seqGaps: s.seqGaps,
    seqDuplicates: s.seqDuplicates,
    resyncs: s.resyncs,
    errorsByCode: s.errorsByCode,
    unexpectedCloses: s.unexpectedCloses,
    received: steadyConnected.map((i) => s.received[i]!),
    sent: sentInPhase,
    churnConnects,
    churnFailures,
    maxSendLagMs: Math.round(maxSendLagMs),
  };
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.type) {
    case "init":
      target = request.target;
      shared = new SharedState(request.buffers);
      options = request.options;
      width = request.width;
      height = request.height;
      // Every delivered pixel is a record: the library's WebAssembly histograms cost a fifth as much.
      await LatencyHistogram.useWebAssembly();
      stats = new ReaderStats(shared, 64, options.method);
      return undefined;
    case "connect":
      return connect(request.clients, request.concurrency);
    case "phase":
      startPhase(request.phase, request.writers);
      return undefined;
    case "stop":
      stopSending();
      return sentInPhase;
    case "churn":
      startChurn(request.urls, request.perSecond, request.lifetimeMs, request.firstIndex);
      return undefined;
    case "stop-churn":
      if (churnTimer) clearInterval(churnTimer);
      churnTimer = undefined;
      return undefined;
    case "report":
      return report();
    case "close":
      stopSending();
      if (churnTimer) clearInterval(churnTimer);
      for (const c of clients.values()) c.terminate();
      for (const c of churnClients) c.terminate();
      clients.clear();
      churnClients.clear();
      return undefined;
  }
}

parentPort!.on("message", (envelope: WorkerEnvelope) => {
  handle(envelope.request).then(
    (result) => parentPort!.postMessage({ id: envelope.id, result }),
    (err: Error) => parentPort!.postMessage({ id: envelope.id, error: err.message }),
  );
});
