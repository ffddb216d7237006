import { ErrorCode } from "../../../gen/pixel/v1/realtime_pb.js";
import { CanvasClient, type ConnectionState } from "../../../web/src/protocol/canvas-client.js";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import { wsSocketFactory } from "../../../web/src/protocol/ws-socket.js";
import type { AckLedger } from "./ack-ledger.js";
import type { CanvasCopy } from "./divergence.js";

/** What became of one placement. */
export type PlacementOutcome = "pending" | "acked" | "refused" | "connection-lost";

/** One stretch during which a client could not draw: from leaving `live` to the next `live`. */
export interface Outage {
  /** When the client left live (ms since the epoch). */
  startMs: number;
  /** When it was live again; undefined while still out. */
  endMs: number | undefined;
  /** Why it left live. */
  reason: string;
  /** Whether the next Watch resumed the stream from the gateway's ring (true) or re-read the tiles (false). */
  resumed: boolean | undefined;
  /** The client's (seq, epoch) when it left live: what its first Watch asks to resume from (after_seq). */
  seqAtLoss: bigint;
  epochAtLoss: bigint;
  /** The seq and epoch of the tile re-read (Watching without replay) that ended the outage, if one did. */
  snapshot: { seq: bigint; epoch: bigint } | undefined;
}

interface Placement {
  pixels: PixelLike[];
  sentMs: number;
  outcome: PlacementOutcome;
  /** When the Ack, Error or loss was seen. */
  settledMs: number | undefined;
}

/**
 * One test client: the real CanvasClient from web/src/protocol over the `ws` package,
 * instrumented for the chaos suites. It records every placement's outcome, feeds what it sent
 * and what was acked to a shared AckLedger, and keeps the outages it went through and the
 * seqs it applied, so delivery and recovery can be counted exactly.
 */
export class ChaosClient {
  readonly client: CanvasClient;
  private readonly placements = new Map<number, Placement>();
  /** Every outage, in order. */
  readonly outages: Outage[] = [];
  /** Seqs applied as batches (live or replayed after a resumed Welcome), per epoch. */
  readonly appliedSeqs = new Set<string>();
  /** Pixels applied from batches. */
  pixelsApplied = 0;
  /** (seq, epoch) of every tile re-read (Watching without replay, Welcome on a live socket): stretches the client got from tiles, not as batches. */
  readonly snapshots: Array<{ seq: bigint; epoch: bigint; atMs: number }> = [];
  /** Errors by code name. */
  readonly errors = new Map<string, number>();
  /** The first Welcome's seq: where this client's expected stream starts. */
  firstSeq: bigint | undefined;
  /** Protocol errors the client library reported (must be none). */
  readonly protocolErrors: string[] = [];
  /** The connection id of the current Welcome. */
  connectionId = "";

  /** `tileBaseUrl` serves /api/tiles/ (default: the socket URL's host, as through haproxy). */
  constructor(readonly name: string, url: string, private readonly ledger: AckLedger, tileBaseUrl?: string) {
    // The chaos canvases are small: every client watches all of their tiles, so it sees every batch.
    this.client = new CanvasClient({ url, socketFactory: wsSocketFactory, name, watchAll: true, ...(tileBaseUrl === undefined ? {} : { tileBaseUrl }) });
    const c = this.client;
    c.on("welcome", (w) => {
      this.connectionId = w.connectionId;
      if (this.firstSeq === undefined) this.firstSeq = w.seq;
      // A Welcome on a live socket restarts its stream: the client re-reads its tiles at that seq.
      if (c.state === "live") this.snapshots.push({ seq: w.seq, epoch: w.epoch, atMs: Date.now() });
    });
    c.on("watching", (w) => {
      // Tiles read at Watching.seq cover what came before it, unless the gateway replayed it.
      if (!w.replayed) this.snapshots.push({ seq: w.seq, epoch: w.epoch, atMs: Date.now() });
      const open = this.outages[this.outages.length - 1];
      // The socket is live again before its Watch is answered: the first Watching after an outage ends it.
      if (open && open.endMs !== undefined && open.resumed === undefined) {
        open.resumed = w.replayed;
        open.snapshot = w.replayed ? undefined : { seq: w.seq, epoch: w.epoch };
      }
    });
    c.on("state", ({ state, previous, reason }) => this.onState(state, previous, reason));
    c.on("batch", ({ batch }) => {
      this.appliedSeqs.add(`${batch.epoch}:${batch.seq}`);
      this.pixelsApplied += batch.pixels.length;
    });
    c.on("ack", ({ clientSeq, seq }) => {
      const p = this.placements.get(clientSeq);
      if (!p) return;
      p.outcome = "acked";
      p.settledMs = Date.now();
      this.ledger.recordAck(seq, c.canvas.epoch, p.pixels);
    });
    c.on("error", ({ code, clientSeq }) => {
      const label = ErrorCode[code] ?? String(code);
      this.errors.set(label, (this.errors.get(label) ?? 0) + 1);
      const p = this.placements.get(clientSeq);
      if (p && p.outcome === "pending") {
        p.outcome = "refused";
        p.settledMs = Date.now();
      }
    });
    c.on("rollback", ({ clientSeq, reason }) => {
      const p = this.placements.get(clientSeq);
      if (p && p.outcome === "pending") {
        p.outcome = reason === "refused" ? "refused" : "connection-lost";
        p.settledMs = Date.now();
      }
    });
    c.on("protocolError", ({ message }) => this.protocolErrors.push(message));
  }

  private onState(state: ConnectionState, previous: ConnectionState, reason: string): void {
    const now = Date.now();
    if (previous === "live" && state !== "live" && state !== "closed") {
      const { seq, epoch } = this.client.canvas;
      this.outages.push({ startMs: now, endMs: undefined, reason, resumed: undefined, seqAtLoss: seq, epochAtLoss: epoch, snapshot: undefined });
    }
    if (state === "live") {
      const open = this.outages[this.outages.length - 1];
      if (open && open.endMs === undefined) open.endMs = now;
    }
  }

  /** Connects. */
  start(): void {
    this.client.start();
  }

  /** Closes for good. */
  close(): void {
    this.client.close();
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.client.state;
  }

  /**
   * Places pixels as one placement (the caller keeps it within max_pixels_per_place).
   * Returns false, drawing nothing, when the client is not live.
   */
  place(pixels: PixelLike[]): boolean {
    const result = this.client.place(pixels);
    if (!result.ok) return false;
    const now = Date.now();
    let offset = 0;
    for (const placement of result.placements) {
      const part = pixels.slice(offset, offset + placement.pixels);
      offset += placement.pixels;
      this.ledger.recordSent(part);
      this.placements.set(placement.clientSeq, { pixels: part, sentMs: now, outcome: "pending", settledMs: undefined });
    }
    return true;
  }

  /** Counts of placements by outcome. */
  outcomes(): Record<PlacementOutcome, number> {
    const counts: Record<PlacementOutcome, number> = { pending: 0, acked: 0, refused: 0, "connection-lost": 0 };
    for (const p of this.placements.values()) counts[p.outcome]++;
    return counts;
  }

  /** Every placement's send time, outcome and settle time, for timelines. */
  placementLog(): Array<{ sentMs: number; outcome: PlacementOutcome; settledMs: number | undefined }> {
    return [...this.placements.values()].map((p) => ({ sentMs: p.sentMs, outcome: p.outcome, settledMs: p.settledMs }));
  }

  /** Whether every watched tile is loaded (none is being read). */
  tilesLoaded(): boolean {
    const tiles = this.client.canvas.tiles;
    return tiles.size > 0 && tiles.loadedCount === tiles.size;
  }

  /** The canonical canvas (no optimistic overlay), for byte comparison. */
  copy(): CanvasCopy {
    const s = this.client.canvas;
    return { name: this.name, seq: s.seq, epoch: s.epoch, width: s.width, height: s.height, pixels: s.canonicalRgb() };
  }
}

/**
 * Starts `count` clients on the URLs given (client i uses urls[i % urls.length]), reading tiles from
 * `tileBaseUrl` (default: each socket URL's host), and waits until all are live with their tiles loaded.
 */
export async function startClients(count: number, urls: string[], ledger: AckLedger, timeoutMs = 20_000, prefix = "client", tileBaseUrl?: string): Promise<ChaosClient[]> {
  const clients = Array.from({ length: count }, (_, i) => new ChaosClient(`${prefix}-${i}`, urls[i % urls.length] as string, ledger, tileBaseUrl));
  for (const c of clients) c.start();
  await waitUntil("every client live with its tiles", () => clients.every((c) => c.state === "live" && c.tilesLoaded()), timeoutMs);
  return clients;
}

/** Polls `check` every 25 ms until it is true, or throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
