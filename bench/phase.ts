import { summarizeMicros, type LatencyHistogram, type LatencySummary } from "./latency-histogram.js";
import { now } from "./load/clock.js";
import type { LoadPool } from "./load/load-pool.js";
import { Control } from "./load/shared-state.js";
import type { WriterSpec } from "./load/worker-protocol.js";
import { latencyBetween, scrape, type MetricsEndpoint, type ServerLatency } from "./server-metrics.js";
import { ProcSampler, round, type ProcUsage, type WatchedProcess } from "./proc-stats.js";

/** One measured stretch of load. */
export interface PhaseOptions {
  name: string;
  writers: WriterSpec[];
  durationMs: number;
  /** Longest wait after the last send for deliveries still in flight. */
  drainMs: number;
  /** Steady readers (loss-counted). */
  steadyReaders: number;
  churn?: { urls: string[]; perSecond: number; lifetimeMs: number; firstIndex: number };
  /** Services' /metrics to read before and after the phase (ours). */
  metrics?: MetricsEndpoint[];
  /** Also wait for every Place's Ack or Error (ours: the batch can reach readers before its Ack reaches the writer). */
  expectAcks: boolean;
  /** Processes to sample (servers and the generator itself). */
  processes: WatchedProcess[];
}

/** What one phase measured; every figure in the result files comes from here. */
export interface PhaseResult {
  name: string;
  /** Aggregate pixels/s the writers were asked to send. */
  targetPixelsPerSecond: number;
  /** Aggregate pixels/s actually sent over the send window. */
  sentPixelsPerSecond: number;
  sendSeconds: number;
  /** Send window plus drain. */
  windowSeconds: number;
  drainSeconds: number;
  sent: number;
  /** Pixels the system refused with an Error (ours) and so never owed to readers. */
  rejected: number;
  readers: number;
  /** Pixels every steady reader should have received: sent - rejected. */
  expectedPerReader: number;
  /** Pixel deliveries to steady readers, summed. */
  received: number;
  /** Expected minus received, summed over steady readers (never negative per reader). */
  lost: number;
  readersWithLoss: number;
  deliveryRatio: number;
  /** Place sent -> pixel at another client. */
  latency: LatencySummary;
  /** Place sent -> Ack (ours only; count 0 for legacy). */
  ackLatency: LatencySummary;
  /** Every pixel delivery (all readers, churn included) per second of the window. */
  pixelDeliveriesPerSecond: number;
  framesPerSecond: number;
  /** Frames the readers received, and how many of them they decoded in full (all, with the outsider method). */
  frames: number;
  decodedFrames: number;
  bytesPerSecond: number;
  seqGaps: number;
  seqDuplicates: number;
  resyncs: number;
  unknownPixels: number;
  errorsByCode: Record<string, number>;
  unexpectedCloses: number;
  churnConnects: number;
  churnFailures: number;
  /** Worst lag of the generator's send loop behind schedule; large means the generator, not the system, was the limit. */
  maxSendLagMs: number;
  processes: ProcUsage[];
  /** Means of the services' own latency histograms over the phase (ours): where the time goes, per hop. */
  serverLatency: ServerLatency;
  /** Latency CDF points [ms, fraction], thinned, for charts. */
  cdf: Array<[number, number]>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function thinCdf(h: LatencyHistogram, maxPoints = 400): Array<[number, number]> {
  const all = h.cdf();
  if (all.length <= maxPoints) return all.map(([us, f]) => [us / 1000, f]);
  const step = all.length / maxPoints;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < all.length; i += step) out.push(all[Math.floor(i)]!);
  out.push(all.at(-1)!);
  return out.map(([us, f]) => [us / 1000, f]);
}

/** Runs one phase: send for durationMs, drain, then merge every worker's measurements. */
export async function runPhase(pool: LoadPool, o: PhaseOptions): Promise<PhaseResult> {
  const metricsBefore = await scrape(o.metrics ?? []);
  const sampler = new ProcSampler(o.processes);
  sampler.start();
  const t0 = now();
  await pool.startPhase(o.writers);
  if (o.churn) await pool.startChurn(o.churn.urls, o.churn.perSecond, o.churn.lifetimeMs, o.churn.firstIndex);
  await sleep(o.durationMs);
  const sent = await pool.stopSending();
  const t1 = now();
  if (o.churn) await pool.stopChurn();
  const control = pool.shared.control;
  for (;;) {
    const rejected = Atomics.load(control, Control.Rejected);
    const answered = !o.expectAcks || Atomics.load(control, Control.Acked) + rejected >= sent;
    if (answered && Atomics.load(control, Control.Delivered) >= (sent - rejected) * o.steadyReaders) break;
    if (now() - t1 > o.drainMs) break;
    await sleep(20);
  }
  const t2 = now();
  const report = await pool.report();
  const processes = sampler.stop();
  const serverLatency = latencyBetween(metricsBefore, await scrape(o.metrics ?? []));
  const rejected = Atomics.load(control, Control.Rejected);
  const expectedPerReader = sent - rejected;
  let received = 0;
  let lost = 0;
  let readersWithLoss = 0;
  for (const r of report.received) {
    received += r;
    const missing = Math.max(0, expectedPerReader - r);
    lost += missing;
    if (missing > 0) readersWithLoss++;
  }
  const readers = report.received.length;
  const sendSeconds = (t1 - t0) / 1000;
  const windowSeconds = (t2 - t0) / 1000;
  const targetRate = o.writers.reduce((a, w) => a + w.pixelsPerSecond, 0);
  return {
    name: o.name,
    targetPixelsPerSecond: round(targetRate, 1),
    sentPixelsPerSecond: round(sent / sendSeconds, 1),
    sendSeconds: round(sendSeconds, 2),
    windowSeconds: round(windowSeconds, 2),
    drainSeconds: round((t2 - t1) / 1000, 2),
    sent,
    rejected,
    readers,
    expectedPerReader,
    received,
    lost,
    readersWithLoss,
    deliveryRatio: expectedPerReader * readers === 0 ? 1 : round(received / (expectedPerReader * readers), 6),
    latency: summarizeMicros(report.latency),
    ackLatency: summarizeMicros(report.ackLatency),
    pixelDeliveriesPerSecond: round(report.pixels / windowSeconds, 0),
    framesPerSecond: round(report.frames / windowSeconds, 0),
    frames: report.frames,
    decodedFrames: report.decodedFrames,
    bytesPerSecond: round(report.bytes / windowSeconds, 0),
    seqGaps: report.seqGaps,
    seqDuplicates: report.seqDuplicates,
    resyncs: report.resyncs,
    unknownPixels: report.unknownPixels,
    errorsByCode: report.errorsByCode,
    unexpectedCloses: report.unexpectedCloses,
    churnConnects: report.churnConnects,
    churnFailures: report.churnFailures,
    maxSendLagMs: report.maxSendLagMs,
    processes,
    serverLatency,
    cdf: thinCdf(report.latency),
  };
}
