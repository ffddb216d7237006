import { DEFAULT_TUNING } from "../../../services/gateway/gateway-tuning.js";
import type { Cluster } from "../../../tools/cluster/cluster.js";
import { startChaosCluster } from "./chaos-cluster.js";
import { AckLedger, ledgerFailures, type LostPixel } from "./ack-ledger.js";
import { CanvasReader } from "./canvas-reader.js";
import { startClients, type ChaosClient, type Outage } from "./chaos-client.js";
import { countDelivery, settle, startDrawing, type Delivery } from "./consistency.js";
import { summarize, type DurationSummary } from "./percentiles.js";
import type { StoredHistory } from "./stored-history.js";
import { Claims, type SuiteResult } from "./suite-result.js";

/** Parameters of the gateway-chaos suite. */
export interface GatewayChaosOptions {
  clients: number;
  gateways: number;
  canvases: number;
  /** How long clients draw while gateways are killed. */
  durationMs: number;
  /** A random running gateway gets kill -9 this often. */
  killEveryMs: number;
  /** A killed gateway is started again after this long, as Kubernetes would restart the pod. */
  restartAfterMs: number;
  /** Each client places one pixel this often. */
  drawIntervalMs: number;
  form: string;
}

/** The documented full form: 50 clients, 4 gateways, kill -9 every 10 s for 60 s. */
export const GATEWAY_CHAOS_FULL: GatewayChaosOptions = { clients: 50, gateways: 4, canvases: 2, durationMs: 60_000, killEveryMs: 10_000, restartAfterMs: 2_000, drawIntervalMs: 200, form: "full" };
/** The short form run by npm test. */
export const GATEWAY_CHAOS_SHORT: GatewayChaosOptions = { clients: 20, gateways: 3, canvases: 1, durationMs: 9_000, killEveryMs: 3_000, restartAfterMs: 1_000, drawIntervalMs: 200, form: "short" };

/** One kill. */
export interface Kill {
  gateway: string;
  atMs: number;
  /** Connections haproxy counted on it just before. */
  connectionsBefore: number;
  /** Clients whose connection dropped within the attribution window after the kill. */
  clientsDisconnected: number;
}

/** The figures the suite reports. */
export interface GatewayChaosFigures {
  kills: Array<Omit<Kill, "atMs"> & { atS: number }>;
  /** Kill times skipped because fewer than two gateways were serving (the others still restarting). */
  skippedKills: number;
  /** Distinct clients that lost their connection at least once. */
  clientsAffected: number;
  /** Connection losses in total (a client can be hit more than once). */
  disconnections: number;
  /** Losses followed by a live connection again / losses. */
  reconnectionRate: number;
  /** From losing the connection to live again (ms). */
  recovery: DurationSummary;
  /** Reconnects that resumed the stream (no snapshot needed). */
  resumedReconnects: number;
  /** Reconnects that needed a snapshot Welcome (the canvas downloaded again). */
  snapshotReconnects: number;
  /**
   * Of those, the ones no resume could have served: the room joined was behind the client
   * (its seq below the client's), the client was behind more than the resume ring holds,
   * or the epoch changed. Every other snapshot reconnect is a failure.
   */
  unavoidableSnapshots: number;
  disconnectionsNotCausedByKills: number;
  placements: number;
  outcomes: Record<string, number>;
  delivery: Delivery;
  lostAckedPixels: number;
  ackedPixels: number;
  /** Acked placements whose stored batch held all their pixels. */
  verifiedPlacements: number;
  acksAheadOfStorage: number;
  divergentPixels: number;
  unanswered: number;
  /** The stored history the ack check also used. */
  history: StoredHistory;
  /** Up to 20 of the lost acked pixels, for diagnosis. */
  lostSample: LostPixel[];
  /** Every connection loss: client, seconds into the run, recovery ms, why, and whether it resumed. */
  outages: Array<{ client: string; atS: number; recoveryMs: number | undefined; reason: string; resumed: boolean | undefined }>;
}

/** A loss counts toward a kill when it starts within this long after it. */
const ATTRIBUTION_WINDOW_MS = 3_000;

/**
 * Gateway chaos: clients draw through haproxy while a random gateway gets kill -9 on a
 * timer (and is restarted shortly after). Every client that lost its connection must be
 * live again; no acknowledged pixel may be missing; after the run every canvas must equal
 * GetCanvas. Reports recovery times and the delivery rate to connected clients.
 */
export async function runGatewayChaos(o: GatewayChaosOptions, existing?: Cluster): Promise<SuiteResult<GatewayChaosFigures>> {
  const cluster = existing ?? await startChaosCluster({ gateways: o.gateways, canvases: o.canvases });
  const ledger = new AckLedger();
  let clients: ChaosClient[] = [];
  const restarts: Array<Promise<void>> = [];
  const restarting = new Set<string>();
  const restartErrors: string[] = [];
  let skippedKills = 0;
  try {
    clients = await startClients(o.clients, [cluster.wsUrl], ledger);
    const { width, height } = clients[0]!.client.canvas;
    const load = startDrawing(clients, { intervalMs: o.drawIntervalMs, pixelsPerPlace: 1, area: { width, height } });
    const started = Date.now();
    const kills: Kill[] = [];
    for (let at = o.killEveryMs; at <= o.durationMs; at += o.killEveryMs) {
      await sleep(started + at - Date.now());
      // A gateway still coming back from the previous kill is not a candidate (killing it
      // mid-start would test the launcher), and the last serving gateway is spared: with none
      // left the suite would measure a total outage, not a failover.
      const running = cluster.gateways.filter((g) => g.alive && !restarting.has(g.id));
      const victim = running.length >= 2 ? running[Math.floor(Math.random() * running.length)] : undefined;
      if (!victim) {
        skippedKills++;
        continue;
      }
      const before = (await cluster.gatewayConnections())[victim.id]?.current ?? 0;
      const atMs = Date.now();
      await victim.kill9();
      kills.push({ gateway: victim.id, atMs, connectionsBefore: before, clientsDisconnected: 0 });
      restarting.add(victim.id);
      restarts.push(sleep(o.restartAfterMs).then(() => victim.restart()).then(
        () => void restarting.delete(victim.id),
        (err: Error) => void restartErrors.push(`${victim.id}: ${err.message}`),
      ));
    }
    await sleep(started + o.durationMs + 1_000 - Date.now());
    const { placed } = load.stop();
    await Promise.all(restarts);
    const settled = await settle(clients, new CanvasReader(cluster.url), ledger, cluster.redisTarget, 30_000);

    const outages: Array<Outage & { client: string }> = clients.flatMap((c) => c.outages.map((x) => ({ ...x, client: c.name })));
    let unattributed = 0;
    for (const outage of outages) {
      // The latest kill before the loss, if it was recent enough.
      const kill = kills.filter((k) => k.atMs <= outage.startMs).pop();
      if (kill && outage.startMs < kill.atMs + ATTRIBUTION_WINDOW_MS) kill.clientsDisconnected++;
      else unattributed++;
    }
    const recovered = outages.filter((x) => x.endMs !== undefined);
    const outcomes: Record<string, number> = {};
    for (const c of clients) for (const [k, v] of Object.entries(c.outcomes())) outcomes[k] = (outcomes[k] ?? 0) + v;
    const delivery = countDelivery(clients, settled.stored);
    const figures: GatewayChaosFigures = {
      kills: kills.map(({ atMs, ...k }) => ({ ...k, atS: Math.round((atMs - started) / 100) / 10 })),
      skippedKills,
      clientsAffected: new Set(outages.map((x) => x.client)).size,
      disconnections: outages.length,
      reconnectionRate: outages.length === 0 ? 1 : recovered.length / outages.length,
      recovery: summarize(recovered.map((x) => (x.endMs as number) - x.startMs)),
      resumedReconnects: recovered.filter((x) => x.resumed === true).length,
      snapshotReconnects: recovered.filter((x) => x.resumed === false).length,
      unavoidableSnapshots: recovered.filter(unavoidableSnapshot).length,
      disconnectionsNotCausedByKills: unattributed,
      placements: placed,
      outcomes,
      delivery,
      lostAckedPixels: settled.ledger.lost.length,
      ackedPixels: settled.ledger.ackedPixels,
      verifiedPlacements: settled.ledger.verifiedPlacements,
      acksAheadOfStorage: settled.ledger.acksAheadOfStorage,
      divergentPixels: settled.divergence.divergentPixels,
      unanswered: settled.unanswered,
      history: settled.history,
      lostSample: settled.ledger.lost.slice(0, 20),
      outages: outages.map((x) => ({
        client: x.client,
        atS: Math.round((x.startMs - started) / 100) / 10,
        recoveryMs: x.endMs === undefined ? undefined : x.endMs - x.startMs,
        reason: x.reason,
        resumed: x.resumed,
      })),
    };
    const claims = new Claims();
    claims.expect(settled.quiescent, `no quiescence within the timeout (${settled.settleMs} ms)`);
    claims.expect(restartErrors.length === 0, `restarts failed: ${restartErrors.join("; ")}`);
    claims.expect(kills.length > 0 && figures.clientsAffected > 0, "no kill disconnected any client");
    claims.expect(figures.reconnectionRate === 1, `only ${recovered.length} of ${outages.length} lost connections came back`);
    claims.expect(figures.snapshotReconnects === figures.unavoidableSnapshots, `${figures.snapshotReconnects - figures.unavoidableSnapshots} reconnects got a snapshot although the ring should have resumed them`);
    claims.include(ledgerFailures(settled.ledger));
    claims.expect(settled.ledger.acksFromOtherEpochs === 0, `${settled.ledger.acksFromOtherEpochs} acks from another epoch (history was lost)`);
    claims.expect(figures.divergentPixels === 0, `${figures.divergentPixels} divergent pixels after the run`);
    claims.expect(figures.unanswered === 0, `${figures.unanswered} placements never answered`);
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
    return claims.result("gateway-chaos", o, figures, [
        `${o.clients} clients drawing through haproxy on ${o.gateways} gateways; kill -9 every ${o.killEveryMs / 1000} s for ${o.durationMs / 1000} s (restart after ${o.restartAfterMs / 1000} s)`,
        `kills: ${figures.kills.map((k) => `${k.gateway}@${k.atS}s (${k.connectionsBefore} conns, ${k.clientsDisconnected} dropped)`).join("; ")}${skippedKills ? `; ${skippedKills} skipped (no other gateway serving yet)` : ""}`,
        `clients affected ${figures.clientsAffected} (${figures.disconnections} disconnections, ${unattributed} not caused by a kill); reconnected ${pct(figures.reconnectionRate)}, ${figures.resumedReconnects} resumed without a snapshot, ${figures.snapshotReconnects} needed one (${figures.unavoidableSnapshots} unavoidable: room behind the client or client behind the ring)`,
        `recovery ms: median ${figures.recovery.median}, p99 ${figures.recovery.p99}, max ${figures.recovery.max}`,
        `placements ${placed}: ${Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(", ")}`,
        `delivery to connected clients ${pct(delivery.ratio)} (${delivery.deliveredBatches}/${delivery.expectedBatches} batches; ${delivery.coveredBySnapshot} covered by snapshots)`,
        `acked placements checked against their stored batch ${figures.verifiedPlacements} of ${settled.ledger.ackedPlacements}; acked pixels lost ${figures.lostAckedPixels} of ${figures.ackedPixels}; acks ahead of storage ${figures.acksAheadOfStorage}; divergent pixels after the run ${figures.divergentPixels}; unanswered ${figures.unanswered}`,
      ]);
  } finally {
    clients.forEach((c) => c.close());
    await Promise.allSettled(restarts);
    if (!existing) await cluster.stop();
  }
}

/** A snapshot reconnect no resume ring could have served (see GatewayChaosFigures.unavoidableSnapshots). */
function unavoidableSnapshot(x: Outage): boolean {
  if (x.resumed !== false || !x.snapshot) return false;
  if (x.snapshot.epoch !== x.epochAtLoss) return true;
  return x.snapshot.seq < x.seqAtLoss || x.snapshot.seq - x.seqAtLoss > BigInt(DEFAULT_TUNING.ringMaxBatches);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
