import { WRITE_DEADLINE_MS } from "../../../services/shared/timing.js";
import type { Cluster, Replica } from "../../../tools/cluster/cluster.js";
import { startChaosCluster } from "./chaos-cluster.js";
import { AckLedger, ledgerFailures, type LostPixel } from "./ack-ledger.js";
import { CanvasReader } from "./canvas-reader.js";
import { startClients, type ChaosClient } from "./chaos-client.js";
import { settle, startDrawing } from "./consistency.js";
import type { StoredHistory } from "./stored-history.js";
import { Claims, type SuiteResult } from "./suite-result.js";

/** Parameters of the backend-chaos suite. */
export interface BackendChaosOptions {
  clients: number;
  gateways: number;
  canvases: number;
  /** Drawing before each fault. */
  warmupMs: number;
  /** How long Redis stays dead. */
  downtimeMs: number;
  /** How long the canvas replica stays dead. */
  canvasDowntimeMs: number;
  /** Drawing after the restart. */
  recoveryMs: number;
  /** Each client places one pixel this often. */
  drawIntervalMs: number;
  form: string;
}

/** The documented full form. */
export const BACKEND_CHAOS_FULL: BackendChaosOptions = { clients: 20, gateways: 2, canvases: 2, warmupMs: 5_000, downtimeMs: 8_000, canvasDowntimeMs: 8_000, recoveryMs: 10_000, drawIntervalMs: 100, form: "full" };
/** The short form run by npm test. */
/** The short form run by npm test; the outage outlasts the gateway's write deadline, so clients must get errors. */
export const BACKEND_CHAOS_SHORT: BackendChaosOptions = { clients: 10, gateways: 2, canvases: 2, warmupMs: 1_000, downtimeMs: WRITE_DEADLINE_MS + 1_500, canvasDowntimeMs: 2_000, recoveryMs: 2_500, drawIntervalMs: 100, form: "short" };

/** What one fault did. */
export interface FaultFigures {
  fault: string;
  downtimeMs: number;
  /** Acked pixels that storage does not hold after the restart: must be 0. */
  lostAckedPixels: number;
  ackedPixels: number;
  epochBefore: string;
  epochAfter: string;
  /** The longest stretch without any Ack around the fault (ms). */
  longestAckGapMs: number;
  /** Whether any placement failed (Error or connection loss) because of the fault. */
  writesStopped: boolean;
  /** From the kill to the first Ack of a placement sent after the last failed one (ms): when writes succeeded again. */
  writesResumedAfterKillMs: number;
  /** From the kill to the first Ack of a placement sent at or after the kill (ms): when a new write first succeeded. */
  firstNewAckAfterKillMs: number;
  /** Sent time of the placements refused or lost because of the fault, from the kill (ms): [earliest, latest]. */
  failedSentRangeMs: [number, number];
  /** From the restart being ready to that first Ack (ms); negative when writes never stopped (a surviving replica took over). */
  writesResumedAfterRestartMs: number;
  /** Placements sent from the kill until writes resumed, by outcome. */
  duringFault: Record<string, number>;
  /** Errors clients received during the whole phase, by code. */
  errors: Record<string, number>;
  /** Longest time from sending a placement to its Ack, Error or loss (ms). */
  slowestAnswerMs: number;
  /** Placements never answered: must be 0 (errors, never silence). */
  unanswered: number;
  clientDisconnections: number;
  divergentPixels: number;
  /** The stored history the ack check also used. */
  history: StoredHistory;
  /** Up to 20 of the lost acked pixels, for diagnosis. */
  lostSample: LostPixel[];
}

/** Longest answer that still counts as "not silence": the gateway's write deadline plus transport slack. */
export const ANSWER_BOUND_MS = WRITE_DEADLINE_MS + 3_000;

/**
 * Backend chaos: with clients drawing, kill -9 Redis (AOF appendfsync always) and restart
 * it; then, separately, kill -9 a canvas replica and restart it. After each: no acked pixel
 * lost, every placement answered (Ack or Error, never silence), every canvas equal to
 * GetCanvas; reports how long writes were out and what clients saw.
 */
export async function runBackendChaos(o: BackendChaosOptions, existing?: Cluster): Promise<SuiteResult<{ faults: FaultFigures[] }>> {
  const cluster = existing ?? await startChaosCluster({ gateways: o.gateways, canvases: o.canvases, appendfsync: "always" });
  if (!cluster.redis) throw new Error("backend chaos needs the cluster's own Redis (not --redis-url)");
  const redis = cluster.redis;
  const claims = new Claims();
  const faults: FaultFigures[] = [];
  try {
    faults.push(await faultPhase("redis kill -9 (appendfsync always)", cluster, redis, o.downtimeMs, o, claims));
    faults.push(await faultPhase("canvas-0 kill -9", cluster, cluster.canvases[0] as Replica, o.canvasDowntimeMs, o, claims));
  } finally {
    if (!existing) await cluster.stop();
  }
  return claims.result("backend-chaos", o, { faults }, faults.flatMap((f) => [
      `${f.fault}: down ${f.downtimeMs / 1000} s with ${o.clients} clients drawing`,
      `  acked pixels lost ${f.lostAckedPixels} of ${f.ackedPixels}; epoch ${f.epochBefore} -> ${f.epochAfter}`,
      f.writesStopped
        ? `  writes succeeded again ${f.writesResumedAfterKillMs} ms after the kill (${f.writesResumedAfterRestartMs >= 0 ? `${f.writesResumedAfterRestartMs} ms after the restart` : "before the restart: a surviving replica took over"}); longest gap without an Ack ${f.longestAckGapMs} ms`
        : `  writes never stopped (first Ack ${f.writesResumedAfterKillMs} ms after the kill); longest gap without an Ack ${f.longestAckGapMs} ms`,
      `  placements during the fault: ${Object.entries(f.duringFault).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}; errors ${JSON.stringify(f.errors)}; disconnections ${f.clientDisconnections}`,
      `  slowest answer ${f.slowestAnswerMs} ms (bound ${ANSWER_BOUND_MS}); unanswered ${f.unanswered}; divergent pixels ${f.divergentPixels}`,
    ]));
}

/** What a fault phase needs of its victim: a crash, and whatever brings the service back. */
export type FaultVictim = Pick<Replica, "kill9" | "restart">;

/** The drawing and timing parameters a fault phase uses. */
export type FaultLoad = Pick<BackendChaosOptions, "clients" | "warmupMs" | "recoveryMs" | "drawIntervalMs">;

/**
 * One fault with clients drawing: kill -9 the victim, wait `downtimeMs`, restart it, keep drawing,
 * then settle and check every claim of the suites (no acked pixel lost, no silence, convergence).
 */
export async function faultPhase(fault: string, cluster: Cluster, victim: FaultVictim, downtimeMs: number, o: FaultLoad, claims: Claims): Promise<FaultFigures> {
  const ledger = new AckLedger();
  const reader = new CanvasReader(cluster.url);
  let clients: ChaosClient[] = [];
  try {
    clients = await startClients(o.clients, [cluster.wsUrl], ledger);
    const before = await reader.read();
    const { width, height } = clients[0]!.client.canvas;
    const load = startDrawing(clients, { intervalMs: o.drawIntervalMs, pixelsPerPlace: 1, area: { width, height } });
    await sleep(o.warmupMs);
    const killMs = Date.now();
    await victim.kill9();
    await sleep(downtimeMs);
    await victim.restart();
    const restartMs = Date.now();
    await sleep(o.recoveryMs);
    load.stop();
    const settled = await settle(clients, reader, ledger, cluster.redisTarget, 30_000);

    const log = clients.flatMap((c) => c.placementLog());
    const acks = log.filter((p) => p.outcome === "acked").map((p) => p.settledMs as number).sort((a, b) => a - b);
    // The longest stretch without any Ack that began while the victim was down.
    let previous = killMs;
    let longest = { from: killMs, to: killMs };
    for (const t of acks) {
      if (t < killMs) continue;
      if (previous <= restartMs && t - previous > longest.to - longest.from) longest = { from: previous, to: t };
      previous = t;
    }
    // Writes succeed again with the first Ack of a placement sent after the last failed one;
    // with no failure at all (a surviving replica took over) they never stopped.
    // A placement in flight at the kill counts too when its failure came after it.
    const failed = log.filter((p) => (p.settledMs ?? 0) >= killMs && (p.outcome === "refused" || p.outcome === "connection-lost"));
    const lastFailureSent = Math.max(killMs, ...failed.map((p) => p.sentMs));
    const resumedAt = Math.min(...log.filter((p) => p.outcome === "acked" && p.sentMs >= lastFailureSent).map((p) => p.settledMs as number));
    const duringFault: Record<string, number> = {};
    for (const p of log) {
      const touched = p.sentMs >= killMs || (p.settledMs ?? 0) >= killMs;
      if (touched && p.sentMs < resumedAt) duringFault[p.outcome] = (duringFault[p.outcome] ?? 0) + 1;
    }
    const errors: Record<string, number> = {};
    for (const c of clients) for (const [k, v] of c.errors) errors[k] = (errors[k] ?? 0) + v;
    const answered = log.filter((p) => p.settledMs !== undefined).map((p) => (p.settledMs as number) - p.sentMs);
    const f: FaultFigures = {
      fault,
      downtimeMs,
      lostAckedPixels: settled.ledger.lost.length,
      ackedPixels: settled.ledger.ackedPixels,
      epochBefore: String(before.epoch),
      epochAfter: String(settled.stored.epoch),
      longestAckGapMs: longest.to - longest.from,
      writesStopped: failed.length > 0,
      writesResumedAfterKillMs: resumedAt - killMs,
      firstNewAckAfterKillMs: Math.min(...log.filter((p) => p.outcome === "acked" && p.sentMs >= killMs).map((p) => p.settledMs as number)) - killMs,
      failedSentRangeMs: failed.length === 0 ? [0, 0] : [Math.min(...failed.map((p) => p.sentMs)) - killMs, lastFailureSent - killMs],
      writesResumedAfterRestartMs: resumedAt - restartMs,
      duringFault,
      errors,
      slowestAnswerMs: Math.max(0, ...answered),
      unanswered: settled.unanswered,
      clientDisconnections: clients.reduce((n, c) => n + c.outages.length, 0),
      divergentPixels: settled.divergence.divergentPixels,
      history: settled.history,
      lostSample: settled.ledger.lost.slice(0, 20),
    };
    claims.expect(settled.quiescent, `${fault}: no quiescence within the timeout (${settled.settleMs} ms)`);
    claims.include(ledgerFailures(settled.ledger).map((failure) => `${fault}: ${failure}`));
    claims.expect(settled.ledger.acksFromOtherEpochs === 0 && f.epochBefore === f.epochAfter, `${fault}: epoch changed ${f.epochBefore} -> ${f.epochAfter} (history lost)`);
    claims.expect(f.unanswered === 0, `${fault}: ${f.unanswered} placements never answered (silence)`);
    claims.expect(f.slowestAnswerMs <= ANSWER_BOUND_MS, `${fault}: a placement waited ${f.slowestAnswerMs} ms for an answer (bound ${ANSWER_BOUND_MS})`);
    claims.expect(f.divergentPixels === 0, `${fault}: ${f.divergentPixels} divergent pixels`);
    claims.expect(acks.some((t) => t > restartMs), `${fault}: no write succeeded after the restart`);
    return f;
  } finally {
    clients.forEach((c) => c.close());
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
