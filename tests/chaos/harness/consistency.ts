import type { AckLedger, LedgerCheck } from "./ack-ledger.js";
import type { CanvasReader } from "./canvas-reader.js";
import { waitUntil, type ChaosClient } from "./chaos-client.js";
import { compareCanvases, type CanvasCopy, type DivergenceReport } from "./divergence.js";
import { recordStoredHistory, type StoredHistory } from "./stored-history.js";
import type { RedisEndpoint } from "../../../services/shared/redis-connection.js";

/** What a run converged to once traffic stopped. */
export interface Settled {
  stored: CanvasCopy;
  divergence: DivergenceReport;
  ledger: LedgerCheck;
  /** Placements that got neither Ack, Error nor a connection loss: "silence", must be 0. */
  unanswered: number;
  /** How long quiescence took after traffic stopped. */
  settleMs: number;
  /** False when quiescence was not reached within the timeout (the comparison still ran). */
  quiescent: boolean;
  /** The stored history the ledger also learnt from. */
  history: StoredHistory;
}

/**
 * Waits for quiescence (every client live, no placement unanswered, every client at the
 * stored seq, read twice in a row so nothing is still moving), then compares every client's
 * canonical canvas with GetCanvas byte for byte and checks every acknowledged pixel.
 * On timeout it still compares, so a divergence is reported rather than hidden. The ledger
 * also learns every batch still in Redis's history stream (see recordStoredHistory).
 */
export async function settle(clients: ChaosClient[], reader: CanvasReader, ledger: AckLedger, redis: RedisEndpoint, timeoutMs = 20_000): Promise<Settled> {
  const started = Date.now();
  let stored = await reader.read();
  const quiescent = await waitUntil("quiescence (all live, all answered, all at the stored seq)", async () => {
    if (!clients.every((c) => c.state === "live" && c.tilesLoaded() && c.outcomes().pending === 0)) return false;
    const now = await reader.read();
    const steady = now.seq === stored.seq && now.epoch === stored.epoch;
    stored = now;
    return steady && clients.every((c) => c.client.canvas.seq === now.seq && c.client.canvas.epoch === now.epoch);
  }, timeoutMs).then(() => true, () => false);
  const settleMs = Date.now() - started;
  stored = await reader.read();
  const history = await recordStoredHistory(redis, ledger);
  return {
    stored,
    divergence: compareCanvases(stored, clients.map((c) => c.copy())),
    ledger: ledger.check(stored),
    unanswered: clients.reduce((n, c) => n + c.outcomes().pending, 0),
    settleMs,
    quiescent,
    history,
  };
}

/** Delivery of batches to clients, counted exactly from seqs. */
export interface Delivery {
  /** Batches each client should have received while it was on the canvas, summed over clients. */
  expectedBatches: number;
  /** Of those, the ones applied as batches (live, or replayed after a resumed Welcome). */
  deliveredBatches: number;
  /** Of those, the ones a snapshot Welcome covered instead. */
  coveredBySnapshot: number;
  /** deliveredBatches / expectedBatches. */
  ratio: number;
}

/**
 * Counts, for every client, the seqs from its first Welcome to the final stored seq in the
 * final epoch, and how many of them it applied as batches rather than got in a snapshot.
 */
export function countDelivery(clients: ChaosClient[], stored: CanvasCopy): Delivery {
  let expected = 0;
  let delivered = 0;
  for (const c of clients) {
    const firstSnapshot = c.snapshots.find((s) => s.epoch === stored.epoch);
    if (!firstSnapshot) continue;
    for (let seq = firstSnapshot.seq + 1n; seq <= stored.seq; seq++) {
      expected++;
      if (c.appliedSeqs.has(`${stored.epoch}:${seq}`)) delivered++;
    }
  }
  return { expectedBatches: expected, deliveredBatches: delivered, coveredBySnapshot: expected - delivered, ratio: expected === 0 ? 1 : delivered / expected };
}

/** How a drawing load runs: every live client places `pixelsPerPlace` pixels every `intervalMs`. */
export interface DrawLoad {
  intervalMs: number;
  pixelsPerPlace: number;
  /** Pixels are drawn from this many columns and rows at the top left (the canvas must be at least this big). */
  area: { width: number; height: number };
}

/** A running load; stop() ends it and reports how many placements were made and refused locally for not being live. */
export interface RunningLoad {
  stop(): { placed: number; notLive: number };
}

/**
 * Starts every client drawing random pixels on its own staggered timer. A client that is
 * not live is refused by the client library (nothing is drawn) and counted as notLive.
 */
export function startDrawing(clients: ChaosClient[], load: DrawLoad): RunningLoad {
  let placed = 0;
  let notLive = 0;
  const timers: NodeJS.Timeout[] = [];
  const starts: NodeJS.Timeout[] = [];
  clients.forEach((c, i) => {
    // Stagger the clients over one interval so the load is smooth rather than in bursts.
    starts.push(setTimeout(() => {
      timers.push(setInterval(() => {
        const pixels = Array.from({ length: load.pixelsPerPlace }, () => ({
          x: Math.floor(Math.random() * load.area.width),
          y: Math.floor(Math.random() * load.area.height),
          color: Math.floor(Math.random() * 0x1000000),
        }));
        if (c.place(pixels)) placed++;
        else notLive++;
      }, load.intervalMs));
    }, (load.intervalMs * i) / clients.length));
  });
  return {
    stop() {
      starts.forEach(clearTimeout);
      timers.forEach(clearInterval);
      return { placed, notLive };
    },
  };
}
