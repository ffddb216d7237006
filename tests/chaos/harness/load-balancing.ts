import type { Cluster } from "../../../tools/cluster/cluster.js";
import { startChaosCluster } from "./chaos-cluster.js";
import { AckLedger, ledgerFailures } from "./ack-ledger.js";
import { CanvasReader } from "./canvas-reader.js";
import { startClients, type ChaosClient } from "./chaos-client.js";
import { settle } from "./consistency.js";
import { Claims, type SuiteResult } from "./suite-result.js";

/** Parameters of the load-balancing suite. */
export interface LoadBalancingOptions {
  clients: number;
  gateways: number;
  canvases: number;
  /** Placements each client makes, one pixel each, on a position no one else uses. */
  placesPerClient: number;
  /** Pause between one client's placements. */
  intervalMs: number;
  form: string;
}

/** The documented full form: 40 clients through haproxy onto 4 gateways, 50 placements each. */
export const LOAD_BALANCING_FULL: LoadBalancingOptions = { clients: 40, gateways: 4, canvases: 2, placesPerClient: 50, intervalMs: 50, form: "full" };
/** The short form run by npm test. */
export const LOAD_BALANCING_SHORT: LoadBalancingOptions = { clients: 24, gateways: 4, canvases: 2, placesPerClient: 10, intervalMs: 40, form: "short" };

/** The figures the suite reports. */
export interface LoadBalancingFigures {
  connectionsPerGateway: Record<string, number>;
  ackedPixels: number;
  /** Acked pixels times clients: each must reach each client. */
  expectedDeliveries: number;
  /** Acked pixels whose colour each client's canonical canvas shows (positions are never shared, so nothing overwrites them). */
  deliveries: number;
  missingDeliveries: number;
  divergentPixels: number;
  lostAckedPixels: number;
  storedSeq: string;
}

/**
 * Load balancing: clients connect through haproxy, which spreads them over the gateways;
 * each client paints its own pixels; every acknowledged pixel must reach every client (as an
 * applied batch, and visible on its canvas), and every canvas must equal GetCanvas.
 */
export async function runLoadBalancing(o: LoadBalancingOptions, existing?: Cluster): Promise<SuiteResult<LoadBalancingFigures>> {
  const cluster = existing ?? await startChaosCluster({ gateways: o.gateways, canvases: o.canvases, env: { PIXELS_PER_SECOND: "100000", PIXEL_BURST: "100000" } });
  const ledger = new AckLedger();
  let clients: ChaosClient[] = [];
  try {
    clients = await startClients(o.clients, [cluster.wsUrl], ledger);
    const connections = await cluster.gatewayConnections();
    const first = clients[0] as ChaosClient;
    const width = first.client.canvas.width;
    const height = first.client.canvas.height;
    if (o.clients * o.placesPerClient > width * height) throw new Error(`${o.clients}x${o.placesPerClient} pixels do not fit a ${width}x${height} canvas`);
    // Each client's own positions, so an acked pixel is never legitimately overwritten.
    const owned = new Map<string, { x: number; y: number; color: number }>();
    await Promise.all(clients.map(async (c, i) => {
      for (let k = 0; k < o.placesPerClient; k++) {
        const index = i * o.placesPerClient + k;
        const pixel = { x: index % width, y: Math.floor(index / width), color: 1 + Math.floor(Math.random() * 0xfffffe) };
        owned.set(`${pixel.x},${pixel.y}`, pixel);
        c.place([pixel]);
        await new Promise((r) => setTimeout(r, o.intervalMs));
      }
    }));
    const settled = await settle(clients, new CanvasReader(cluster.url), ledger, cluster.redisTarget);

    let deliveries = 0;
    let ackedPixels = 0;
    for (const pixel of owned.values()) {
      const stored = colorAt(settled.stored.pixels, width, pixel.x, pixel.y);
      if (stored !== pixel.color) continue; // not acked (refused): not expected anywhere
      ackedPixels++;
      for (const c of clients) {
        if (c.client.canvas.canonicalColorAt(pixel.x, pixel.y) === pixel.color) deliveries++;
      }
    }
    const ackedByLedger = settled.ledger.ackedPixels;
    const everyBatch = clients.every((c) => {
      const from = c.firstSeq ?? 0n;
      for (let s = from + 1n; s <= settled.stored.seq; s++) if (!c.appliedSeqs.has(`${settled.stored.epoch}:${s}`)) return false;
      return true;
    });
    const perGateway = Object.fromEntries(Object.entries(connections).map(([k, v]) => [k, v.current]));
    const total = Object.values(perGateway).reduce((a, b) => a + b, 0);
    const claims = new Claims();
    claims.expect(settled.quiescent, `no quiescence within the timeout (${settled.settleMs} ms)`);
    claims.expect(total === o.clients, `haproxy counts ${total} WebSocket connections, expected ${o.clients}`);
    claims.expect(Object.values(perGateway).every((n) => n > 0) && Object.keys(perGateway).length === o.gateways, `not every gateway got connections: ${JSON.stringify(perGateway)}`);
    claims.expect(ackedByLedger === o.clients * o.placesPerClient, `${ackedByLedger} of ${o.clients * o.placesPerClient} pixels were acknowledged`);
    claims.expect(ackedPixels === ackedByLedger, `${ackedPixels} acked pixels are in storage, ${ackedByLedger} were acked`);
    claims.expect(deliveries === ackedPixels * o.clients, `${ackedPixels * o.clients - deliveries} pixel deliveries missing`);
    claims.expect(everyBatch, "some client did not apply every batch after joining");
    claims.expect(settled.divergence.divergentPixels === 0, `${settled.divergence.divergentPixels} divergent pixels`);
    claims.include(ledgerFailures(settled.ledger));
    claims.expect(settled.unanswered === 0, `${settled.unanswered} placements never answered`);
    const figures: LoadBalancingFigures = {
      connectionsPerGateway: perGateway,
      ackedPixels,
      expectedDeliveries: ackedPixels * o.clients,
      deliveries,
      missingDeliveries: ackedPixels * o.clients - deliveries,
      divergentPixels: settled.divergence.divergentPixels,
      lostAckedPixels: settled.ledger.lost.length,
      storedSeq: String(settled.stored.seq),
    };
    return claims.result("load-balancing", o, figures, [
        `${o.clients} clients through haproxy onto ${o.gateways} gateways: ${Object.entries(perGateway).map(([g, n]) => `${g}=${n}`).join(" ")}`,
        `pixels acked ${ackedPixels}; deliveries ${deliveries}/${ackedPixels * o.clients} (missing ${figures.missingDeliveries}); every batch applied by every client: ${everyBatch}`,
        `divergent pixels ${figures.divergentPixels}; acked pixels missing from storage ${figures.lostAckedPixels}; stored seq ${figures.storedSeq}`,
      ]);
  } finally {
    clients.forEach((c) => c.close());
    if (!existing) await cluster.stop();
  }
}

function colorAt(pixels: Uint8Array, width: number, x: number, y: number): number {
  const i = (y * width + x) * 3;
  return ((pixels[i] ?? 0) << 16) | ((pixels[i + 1] ?? 0) << 8) | (pixels[i + 2] ?? 0);
}
