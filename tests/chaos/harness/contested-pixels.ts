import type { Cluster } from "../../../tools/cluster/cluster.js";
import { startChaosCluster } from "./chaos-cluster.js";
import { AckLedger, ledgerFailures } from "./ack-ledger.js";
import { CanvasReader } from "./canvas-reader.js";
import { startClients, type ChaosClient } from "./chaos-client.js";
import { settle } from "./consistency.js";
import { compareCanvases } from "./divergence.js";
import { Claims, type SuiteResult } from "./suite-result.js";

/** Parameters of the contested-pixels suite. */
export interface ContestedPixelsOptions {
  clients: number;
  gateways: number;
  canvases: number;
  /** Contested positions, all on row 0. */
  pixels: number;
  /** Concurrent rounds: every client paints every contested pixel at the same moment. */
  rounds: number;
  /** Rapid sequences: each client fires this many one-pixel placements back to back, without waiting for acks. */
  burst: number;
  /** Rapid-sequence repetitions. */
  bursts: number;
  /** 0: one redis-server; N: a Redis Cluster of N primaries, one replica each (WAIT 1). */
  redisShards: number;
  form: string;
}

/** The documented full form. */
export const CONTESTED_FULL: ContestedPixelsOptions = { clients: 20, gateways: 4, canvases: 2, pixels: 10, rounds: 200, burst: 50, bursts: 20, redisShards: 0, form: "full" };
/** The short form run by npm test. */
export const CONTESTED_SHORT: ContestedPixelsOptions = { clients: 20, gateways: 2, canvases: 2, pixels: 10, rounds: 30, burst: 20, bursts: 5, redisShards: 0, form: "short" };

/** The figures the suite reports. */
export interface ContestedFigures {
  clientsPerGateway: Record<string, number>;
  placements: number;
  acked: number;
  refused: number;
  batches: string;
  divergentPixels: number;
  divergentClients: number;
  /** Distinct colours each contested pixel took over the run's acked writes (shows they really were contested). */
  writesPerContestedPixel: number;
  lostAckedPixels: number;
  /** From the last placement sent to quiescence. */
  settleMs: number;
  /** From the last placement sent to the last Ack or Error. */
  lastAnswerMs: number;
}

const randomColor = () => Math.floor(Math.random() * 0x1000000);

/**
 * Contested pixels: clients split evenly across the gateways (each connects straight to
 * its gateway) all paint the same few pixels, concurrently and in rapid unacknowledged
 * sequences. After quiescence every client's canonical canvas, GetCanvas and every other
 * client must be equal byte for byte, and no acknowledged pixel may be missing.
 */
export async function runContestedPixels(o: ContestedPixelsOptions, existing?: Cluster): Promise<SuiteResult<ContestedFigures>> {
  const redis = o.redisShards > 0 ? { redisMode: "cluster" as const, redisShards: o.redisShards, redisReplicas: 1 } : {};
  const cluster = existing ?? await startChaosCluster({ gateways: o.gateways, canvases: o.canvases, ...redis, env: { PIXELS_PER_SECOND: "100000", PIXEL_BURST: "100000" } });
  const ledger = new AckLedger();
  let clients: ChaosClient[] = [];
  try {
    const urls = cluster.gateways.map((g) => `ws://127.0.0.1:${g.port}/ws`);
    // Gateways serve no tiles: those come through haproxy, as for a browser.
    clients = await startClients(o.clients, urls, ledger, undefined, undefined, cluster.url);
    const clientsPerGateway = Object.fromEntries(cluster.gateways.map((g, gi) => [g.id, clients.filter((_, i) => i % urls.length === gi).length]));
    const positions = Array.from({ length: o.pixels }, (_, x) => ({ x, y: 0 }));
    let placements = 0;
    for (let r = 0; r < o.rounds; r++) {
      for (const c of clients) if (c.place(positions.map((p) => ({ ...p, color: randomColor() })))) placements++;
      // Let the event loop flush the sockets so rounds interleave at the gateways.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let b = 0; b < o.bursts; b++) {
      for (const c of clients) {
        for (let k = 0; k < o.burst; k++) {
          const p = positions[Math.floor(Math.random() * positions.length)] as { x: number; y: number };
          if (c.place([{ ...p, color: randomColor() }])) placements++;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const sentAt = Date.now();
    const settled = await settle(clients, new CanvasReader(cluster.url), ledger, cluster.redisTarget, 120_000);
    const lastAnswerMs = Math.max(0, ...clients.flatMap((c) => c.placementLog().map((p) => (p.settledMs ?? sentAt) - sentAt)));
    // Client against client, too: the first client as the reference for the others.
    const pairwise = compareCanvases(clients[0]!.copy(), clients.slice(1).map((c) => c.copy()));
    const outcomes = clients.map((c) => c.outcomes());
    const acked = outcomes.reduce((n, x) => n + x.acked, 0);
    const refused = outcomes.reduce((n, x) => n + x.refused, 0);
    const claims = new Claims();
    claims.expect(settled.quiescent, `no quiescence within the timeout (${settled.settleMs} ms)`);
    claims.expect(settled.divergence.divergentPixels === 0, `${settled.divergence.divergentPixels} pixels differ from GetCanvas (${settled.divergence.divergentCopies.map((c) => c.name).join(", ")})`);
    claims.expect(pairwise.identical, `clients differ from each other on ${pairwise.divergentPixels} pixels`);
    claims.include(ledgerFailures(settled.ledger));
    claims.expect(settled.unanswered === 0, `${settled.unanswered} placements never answered`);
    claims.expect(acked > 0 && acked + refused === placements, `${placements} placements, ${acked} acked, ${refused} refused`);
    claims.expect(clients.every((c) => c.protocolErrors.length === 0), "a client reported protocol errors");
    const figures: ContestedFigures = {
      clientsPerGateway,
      placements,
      acked,
      refused,
      batches: String(settled.stored.seq),
      divergentPixels: Math.max(settled.divergence.divergentPixels, pairwise.divergentPixels),
      divergentClients: settled.divergence.divergentCopies.length,
      writesPerContestedPixel: Math.round(settled.ledger.ackedPixels / o.pixels),
      lostAckedPixels: settled.ledger.lost.length,
      settleMs: settled.settleMs,
      lastAnswerMs,
    };
    return claims.result("contested-pixels", o, figures, [
        `${o.clients} clients on ${o.gateways} gateways (${Object.entries(clientsPerGateway).map(([g, n]) => `${g}=${n}`).join(" ")}) on the same ${o.pixels} pixels`,
        `${placements} placements (${o.rounds} concurrent rounds, ${o.bursts}x${o.burst} rapid sequences per client): ${acked} acked, ${refused} refused; ~${figures.writesPerContestedPixel} acked writes per pixel`,
        `last answer ${lastAnswerMs} ms after the last placement was sent; quiescence after ${settled.settleMs} ms: divergent pixels ${figures.divergentPixels} across ${o.clients} clients + GetCanvas at seq ${figures.batches}; acked pixels missing ${figures.lostAckedPixels}`,
      ]);
  } finally {
    clients.forEach((c) => c.close());
    if (!existing) await cluster.stop();
  }
}
