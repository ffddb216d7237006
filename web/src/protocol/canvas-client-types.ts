import type { PixelBatch } from "../../../gen/pixel/v1/canvas_pb.js";
import type { ErrorCode, Welcome } from "../../../gen/pixel/v1/realtime_pb.js";
import type { Clock } from "./clock.js";
import type { Rect } from "./rect.js";
import type { SocketFactory } from "./socket.js";
import type { TileReader } from "./tile-copies.js";

/**
 * Where the connection stands.
 * - idle: created, start() not called yet.
 * - connecting: the first connection is being opened (no canvas yet).
 * - live: joined; batches apply and placements are accepted.
 * - resyncing: the gateway dropped the socket as a slow consumer and it is being re-joined.
 * - reconnecting: the connection was lost; a new one is opened after a jittered backoff.
 * - closed: close() was called; nothing happens any more.
 */
export type ConnectionState = "idle" | "connecting" | "live" | "resyncing" | "reconnecting" | "closed";

/** A change of what the canvas shows: one region, or everything (Welcome, resync, rollback of many). */
export type CanvasChange = { full: true } | { full: false; rect: Rect };

/** Events a CanvasClient emits. */
export interface CanvasClientEvents {
  /** The connection state changed; `reason` says why, for logs and the status line. */
  state: { state: ConnectionState; previous: ConnectionState; reason: string };
  /** What the canvas shows changed (canonical batches, tiles read, optimistic paint or rollback). */
  canvas: CanvasChange;
  /** Who is online. */
  presence: { online: number; names: string[] };
  /**
   * The gateway refused or failed something; `clientSeq` is 0 when no placement is concerned.
   * `retryAfterMs` (RATE_LIMITED) is how long until the placement budget holds that Place again; 0 when unknown.
   */
  error: { code: ErrorCode; message: string; clientSeq: number; pixels: number; retryAfterMs: number };
  /** A placement was stored in batch `seq`. */
  ack: { clientSeq: number; seq: bigint; pixels: number };
  /** Optimistic paint was taken back: refused by the gateway, or unconfirmed when the connection dropped. */
  rollback: { clientSeq: number; pixels: number; reason: "refused" | "connection-lost" };
  /** A batch was applied in order (for tools that measure delivery). */
  batch: { batch: PixelBatch; receivedAtMs: number };
  /** A Welcome was accepted. */
  welcome: Welcome;
  /** A Watch took effect at `seq`; `replayed`: the batches missed since the resume point came first, so kept tiles were not re-read. */
  watching: { seq: bigint; epoch: bigint; replayed: boolean };
  /** A Pong arrived; `rttMs` is the round trip of its Ping. */
  pong: { rttMs: number };
  /** The server sent something the client could not use (undecodable frame, a Welcome or Watching that makes no sense). */
  protocolError: { message: string };
}

/** Why place() accepted or refused pixels. */
export type PlaceResult =
  | { ok: true; placements: Array<{ clientSeq: number; pixels: number }> }
  /** Not joined: nothing was sent and nothing is drawn. The app shows this refusal. */
  | { ok: false; reason: "not-live"; state: ConnectionState }
  | { ok: false; reason: "invalid"; message: string };

/** How to reach and join a canvas. */
export interface CanvasClientOptions {
  /** The WebSocket URL, e.g. ws://host/ws. */
  url: string;
  /** Opens sockets: the browser adapter, wsSocketFactory in Node, or a fake. */
  socketFactory: SocketFactory;
  /** Empty means the default canvas. */
  canvasId?: string;
  /** Display name sent in Hello. */
  name?: string;
  clock?: Clock;
  /** Uniform [0, 1) source for backoff jitter. */
  random?: () => number;
  /** Watch every tile of the canvas (tools and tests on small canvases) instead of the region given to watchRegion. */
  watchAll?: boolean;
  /** Where tiles are read: the origin serving /api/tiles/ (default: the socket URL's host over http(s)). */
  tileBaseUrl?: string;
  /** Reads tiles some other way (tests); overrides tileBaseUrl. */
  tileReader?: TileReader;
}

/** Limits the gateway announced in its Welcome. */
export interface PlaceLimits {
  maxPixelsPerPlace: number;
  pixelsPerSecond: number;
}
