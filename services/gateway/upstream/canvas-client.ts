import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { CanvasService } from "../../../gen/pixel/v1/canvas_pb.js";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import { CANVAS_PING_INTERVAL_MS, CANVAS_PING_TIMEOUT_MS } from "../../shared/timing.js";
import { readRecentBatches, type RecentBatchesRequest } from "./canvas-history.js";
import { CanvasWriteStream } from "./canvas-write-stream.js";

/** How a CanvasClient sends writes: one WritePixels stream, or a unary SetPixels per batch. */
export type CanvasWrites = "stream" | "unary";

/** A canvas snapshot as GetCanvas returns it. */
export interface CanvasSnapshot {
  canvasId: string;
  width: number;
  height: number;
  seq: bigint;
  epoch: bigint;
  pixels: Uint8Array;
}

/** Where a canvas stands, without its pixels: what a gateway room needs to follow its batches. */
export interface CanvasHead {
  canvasId: string;
  width: number;
  height: number;
  seq: bigint;
  epoch: bigint;
}

/** One placement of a SetPixels batch: the Author run the canvas service checks against that person's budgets. */
export interface AuthorRun {
  /** The placing session's user id (1 to 64 characters): it keys the person's budget and is published as the author. */
  userId: string;
  name: string;
  pixelCount: number;
  /** The client's network key (ipKeyOf), for the per-network budget; never stored or published. */
  ipKey: string;
}

/** Whether one AuthorRun was stored; `retryAfterMs` is the wait of a run refused by its budget. */
export interface RunResult {
  stored: boolean;
  retryAfterMs: number;
  /** Refused because the run's user is banned, with the admin's reason (absent from fakes that never ban). */
  banned?: boolean;
  banReason?: string;
}

/** Where a batch landed, and what became of each AuthorRun sent. */
export interface StoredWrite {
  seq: bigint;
  epoch: bigint;
  /** One per AuthorRun, in order; a run without an entry (a canvas service without budgets answers none) was stored. */
  results?: RunResult[];
}

/** What the gateway needs from the canvas service; tests substitute a fake. */
export interface CanvasClient {
  /** Reads a whole canvas; rejects with ConnectError (NotFound for an unknown canvas). */
  getCanvas(canvasId: string, timeoutMs: number): Promise<CanvasSnapshot>;
  /**
   * Reads a canvas's size, seq and epoch (from its first level-0 tile, a sub-millisecond read at
   * any canvas size); rejects with ConnectError (NotFound for an unknown canvas).
   */
  getHead(canvasId: string, timeoutMs: number): Promise<CanvasHead>;
  /**
   * Stores one batch (over the process's WritePixels stream); resolves with the seq it was assigned
   * and, per AuthorRun, whether the run's budgets let it in (refused runs are not in the batch).
   */
  setPixels(canvasId: string, pixels: PixelLike[], author: string, timeoutMs: number, authors?: AuthorRun[]): Promise<StoredWrite>;
  /** The stored batches (afterSeq, throughSeq] of one epoch, encoded as on the bus, oldest first; see readRecentBatches. Absent: rooms seed no history. */
  recentBatches?(req: RecentBatchesRequest): Promise<Uint8Array[]>;
  /** True when the service answers its health check (or answers at all, if it has none). */
  isReachable(timeoutMs: number): Promise<boolean>;
  /** Closes the write stream, so nothing holds the process or a peer's shutdown; calls still waiting fail with Canceled. */
  close?(): void;
}

/**
 * The one transport a gateway process uses for the canvas service: Connect's binary
 * protocol over a single reused HTTP/2 session (measured faster than gRPC on connect-node).
 */
export function createCanvasTransport(baseUrl: string, protocol: "connect" | "grpc" = "connect"): Transport {
  const keepalive = { pingIntervalMs: CANVAS_PING_INTERVAL_MS, pingTimeoutMs: CANVAS_PING_TIMEOUT_MS };
  if (protocol === "grpc") return createGrpcTransport({ baseUrl, ...keepalive });
  return createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, ...keepalive });
}

/**
 * A CanvasClient over a Connect transport (HTTP/2 to a remote service, or an in-process router
 * transport). Writes go over one WritePixels stream (`writes: "stream"`, the default) or as unary
 * SetPixels calls (`"unary"`, the way before WritePixels existed, kept for comparison).
 */
export function createCanvasClient(transport: Transport, writes: CanvasWrites = "stream"): CanvasClient {
  const canvas = createClient(CanvasService, transport);
  const health = createClient(Health, transport);
  const unary: CanvasClient["setPixels"] = async (canvasId, pixels, author, timeoutMs, authors = []) => {
    const res = await canvas.setPixels({ canvasId, pixels, author, authors }, { timeoutMs });
    return { seq: res.seq, epoch: res.epoch, results: res.results };
  };
  const stream = writes === "stream" ? new CanvasWriteStream(canvas, unary) : undefined;
  return {
    async getCanvas(canvasId, timeoutMs) {
      const res = await canvas.getCanvas({ canvasId }, { timeoutMs });
      return { canvasId: res.canvasId || canvasId, width: res.width, height: res.height, seq: res.seq, epoch: res.epoch, pixels: res.pixels };
    },
    async getHead(canvasId, timeoutMs) {
      const res = await canvas.getTile({ canvasId, level: 0, tx: 0, ty: 0 }, { timeoutMs });
      return { canvasId: res.canvasId || canvasId, width: res.canvasWidth, height: res.canvasHeight, seq: res.seq, epoch: res.epoch };
    },
    recentBatches: (req) => readRecentBatches(canvas, req),
    setPixels: stream ? (canvasId, pixels, author, timeoutMs, authors) => stream.setPixels(canvasId, pixels, author, timeoutMs, authors) : unary,
    close() {
      stream?.close();
    },
    async isReachable(timeoutMs) {
      try {
        const res = await health.check({ service: "" }, { timeoutMs });
        return res.status === HealthCheckResponse_ServingStatus.SERVING;
      } catch (err) {
        // A service without grpc.health.v1 still proves it is up by answering Unimplemented.
        return ConnectError.from(err).code === Code.Unimplemented;
      }
    },
  };
}

/**
 * Errors worth retrying: the service or its Redis may come back within the write deadline.
 * Canceled counts too: connect-node reports every stream of an HTTP/2 session that was cut (a
 * killed or restarting canvas replica) as Canceled ("http/2 stream closed with error code
 * CANCEL"), and the next attempt opens a new session. Our own deadline is DeadlineExceeded; only
 * when `ownSignal` (a caller's abort) fired is a Canceled ours, and then it is final.
 */
export function isRetryable(err: unknown, ownSignal?: AbortSignal): boolean {
  const code = ConnectError.from(err).code;
  if (code === Code.Canceled) return ownSignal?.aborted !== true;
  return code === Code.Unavailable || code === Code.DeadlineExceeded || code === Code.Aborted || code === Code.ResourceExhausted || code === Code.Unknown || code === Code.Internal;
}
