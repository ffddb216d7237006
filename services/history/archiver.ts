import { fromBinary } from "@bufbuild/protobuf";
import { Counter, Gauge } from "prom-client";
import { PixelBatchSchema } from "../../gen/pixel/v1/canvas_pb.js";
import type { Logger } from "../shared/logger.js";
import { metricsRegistry } from "../shared/metrics.js";
import type { HistoryEntry, HistorySource } from "./history-source.js";
import type { LogBatch, PlacementLog } from "./placement-log.js";

/** How long the archiver waits after a pass that found nothing new. */
export const ARCHIVE_POLL_INTERVAL_MS = 100;
/** History entries read per canvas per request. */
export const ARCHIVE_READ_ENTRIES = 2_000;
/** Most pixels one append (one INSERT statement) carries; whole batches, so one big batch may exceed it. */
export const ARCHIVE_APPEND_PIXELS = 10_000;
/** First and largest wait after a failed pass (database or Redis down), doubling in between. */
export const ARCHIVE_BASE_BACKOFF_MS = 100;
export const ARCHIVE_MAX_BACKOFF_MS = 2_000;

const archivedBatches = new Counter({ name: "pixel_history_archived_batches_total", help: "Batches appended to the placement log.", registers: [metricsRegistry] });
const archivedPixels = new Counter({ name: "pixel_history_archived_pixels_total", help: "Pixels appended to the placement log.", registers: [metricsRegistry] });
const lostSeqs = new Counter({ name: "pixel_history_gap_seqs_total", help: "Seqs recorded as gaps: gone from the store's history before they were archived.", registers: [metricsRegistry] });
const lagSeconds = new Gauge({ name: "pixel_history_archive_lag_seconds", help: "Age of the newest batch archived by the last append, when it was appended.", registers: [metricsRegistry] });

/** What the archiver reports after each append (for benchmarks and tests). */
export interface ArchivedReport {
  canvasId: string;
  epoch: number;
  /** The seqs appended, with the time each was stored. */
  batches: { seq: number; timeMs: number }[];
  /** When the append was durable, Unix ms. */
  atMs: number;
}

/** What an Archiver needs. */
export interface ArchiverOptions {
  source: HistorySource;
  log: PlacementLog;
  logger: Logger;
  /** Called after every durable append. */
  onArchived?: (report: ArchivedReport) => void;
}

/**
 * Copies every canvas's history from the store (HistorySource) into the placement log, in seq
 * order, and resumes after any restart from the log's own last seq (PlacementLog.lastArchived), so a
 * crash at any point neither loses nor duplicates a batch: appending is idempotent and the position
 * only advances after an append is durable. Seqs the store no longer retains when asked are recorded
 * as a gap, never invented; a new epoch (reset, data loss) is recorded and archived from seq 1.
 */
export class Archiver {
  /** The log position per canvas, once read from the log. */
  private readonly positions = new Map<string, { epoch: number; seq: number }>();
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: ArchiverOptions) {}

  /** Starts archiving in the background until `stop`. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** Stops after the pass in progress and one last pass, so what the store holds now is archived (unless the database is down). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  /** Why the last pass failed (database or Redis unreachable); undefined when it succeeded. */
  problem(): string | undefined {
    return this.lastError;
  }

  /** One pass over every canvas: archives everything retained now. Returns how many batches were appended. */
  async runOnce(): Promise<number> {
    let appended = 0;
    for (const canvasId of await this.options.source.canvasIds()) appended += await this.archiveCanvas(canvasId);
    return appended;
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    for (;;) {
      const last = this.stopping;
      let appended = 0;
      try {
        appended = await this.runOnce();
        backoff = 0;
        this.lastError = undefined;
      } catch (err) {
        this.lastError = (err as Error).message;
        // The database or Redis is down: nothing advanced; retry from the same positions.
        backoff = Math.min(ARCHIVE_MAX_BACKOFF_MS, backoff === 0 ? ARCHIVE_BASE_BACKOFF_MS : backoff * 2);
        this.options.logger.warn({ err: (err as Error).message, retryInMs: backoff }, "archiving failed; will retry");
        this.positions.clear();
        if (last) return;
      }
      if (last) return;
      if (appended === 0 || backoff > 0) await this.sleep(backoff > 0 ? backoff : ARCHIVE_POLL_INTERVAL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Archives one canvas up to what its history holds now. */
  private async archiveCanvas(canvasId: string): Promise<number> {
    const { source, log, logger } = this.options;
    let pos = this.positions.get(canvasId) ?? (await log.lastArchived(canvasId)) ?? { epoch: 0, seq: 0 };
    this.positions.set(canvasId, pos);
    let appended = 0;
    for (;;) {
      let slice = await source.read(canvasId, pos.seq, ARCHIVE_READ_ENTRIES);
      if (slice.epoch === 0 || slice.epoch < pos.epoch) return appended;
      if (slice.epoch !== pos.epoch) {
        await log.recordEpoch(canvasId, slice.epoch, Date.now());
        logger.info({ canvasId, from: pos.epoch, to: slice.epoch }, "canvas started a new epoch; archiving it from seq 1");
        pos = { epoch: slice.epoch, seq: 0 };
        this.positions.set(canvasId, pos);
        slice = await source.read(canvasId, 0, ARCHIVE_READ_ENTRIES);
        if (slice.epoch !== pos.epoch) continue;
      }
      if (slice.seq <= pos.seq) return appended;
      const first = slice.firstRetainedSeq;
      if (first === undefined || first > pos.seq + 1) {
        const toSeq = first === undefined ? slice.seq : first - 1;
        await this.gap(canvasId, pos, toSeq, "the store no longer retained them");
        pos = this.positions.get(canvasId)!;
        continue;
      }
      const entries = slice.entries.filter((e) => e.seq > pos.seq && e.epoch === pos.epoch);
      if (entries.length === 0) return appended;
      let chunk: LogBatch[] = [];
      let pixels = 0;
      // One append in flight while the next chunk is decoded; appends still run one after another,
      // so the position only ever advances in seq order.
      let inFlight: Promise<number> | undefined;
      const settle = async () => {
        if (inFlight !== undefined) appended += await inFlight;
        inFlight = undefined;
      };
      for (const entry of entries) {
        const batch = toLogBatch(canvasId, entry);
        if (batch === undefined) {
          // Written before previous colours were captured: archived as a gap rather than guessed.
          await settle();
          appended += await this.flush(chunk, pos);
          chunk = [];
          pixels = 0;
          await this.gap(canvasId, this.positions.get(canvasId)!, entry.seq, "their history entry has no previous colours");
          pos = this.positions.get(canvasId)!;
          continue;
        }
        chunk.push(batch);
        pixels += batch.pixels.length;
        if (pixels >= ARCHIVE_APPEND_PIXELS) {
          await settle();
          inFlight = this.flush(chunk, pos);
          // Awaited by the next settle(); this only keeps a failure from being reported as unhandled meanwhile.
          inFlight.catch(() => undefined);
          chunk = [];
          pixels = 0;
        }
      }
      await settle();
      appended += await this.flush(chunk, pos);
      pos = this.positions.get(canvasId)!;
      if (slice.entries.length < ARCHIVE_READ_ENTRIES) return appended;
    }
  }

  /** Appends a chunk of consecutive batches and advances the canvas's position past them. */
  private async flush(chunk: LogBatch[], pos: { epoch: number; seq: number }): Promise<number> {
    if (chunk.length === 0) return 0;
    const { canvasId, epoch } = chunk[0]!;
    await this.options.log.append(chunk);
    const atMs = Date.now();
    const last = chunk[chunk.length - 1]!;
    this.positions.set(canvasId, { epoch: pos.epoch, seq: last.seq });
    archivedBatches.inc(chunk.length);
    archivedPixels.inc(chunk.reduce((n, b) => n + b.pixels.length, 0));
    lagSeconds.set((atMs - last.timeMs) / 1000);
    this.options.onArchived?.({ canvasId, epoch, batches: chunk.map((b) => ({ seq: b.seq, timeMs: b.timeMs })), atMs });
    return chunk.length;
  }

  /** Records seqs pos.seq + 1 .. toSeq as lost and moves past them. */
  private async gap(canvasId: string, pos: { epoch: number; seq: number }, toSeq: number, why: string): Promise<void> {
    const gap = { canvasId, epoch: pos.epoch, fromSeq: pos.seq + 1, toSeq };
    await this.options.log.recordGap(gap);
    lostSeqs.inc(toSeq - pos.seq);
    this.options.logger.warn({ gap }, `seqs missing from the placement log: ${why}`);
    this.positions.set(canvasId, { epoch: pos.epoch, seq: toSeq });
  }
}

/** A history entry as a log batch; undefined when its previous colours are missing (an entry older than their capture). */
export function toLogBatch(canvasId: string, entry: HistoryEntry): LogBatch | undefined {
  const batch = fromBinary(PixelBatchSchema, entry.batch);
  if (entry.previousColors.length !== batch.pixels.length * 3) return undefined;
  const prev = entry.previousColors;
  return {
    canvasId,
    epoch: entry.epoch,
    seq: entry.seq,
    timeMs: Number(batch.timeUnixMs),
    kind: entry.kind,
    author: batch.author,
    pixels: batch.pixels.map((p, i) => ({ x: p.x, y: p.y, color: p.color, previousColor: (prev[i * 3]! << 16) | (prev[i * 3 + 1]! << 8) | prev[i * 3 + 2]! })),
    runs: batch.authors.map((a) => ({ userId: a.userId, name: a.name, pixelCount: a.pixelCount })),
  };
}
