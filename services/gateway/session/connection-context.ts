import type { Logger } from "../../shared/logger.js";
import type { RoomRegistry } from "../room/room-registry.js";
import type { WriteBatcher } from "../upstream/write-batcher.js";
import type { Connection } from "./connection.js";

/** What every connection of a gateway shares. */
export interface ConnectionContext {
  log: Logger;
  rooms: RoomRegistry;
  batcherFor(canvasId: string): WriteBatcher;
  pixelsPerSecond: number;
  pixelBurst: number;
  /** Queued bytes a socket may hold above its room's snapshot size before it counts as slow. */
  slowConsumerBytes: number;
  /** Hard cap on a socket's queued bytes, for every frame (see gateway-tuning.ts). */
  sendBufferMaxBytes: number;
  /** A socket whose reads are paused because its writes do not drain is closed after this long. */
  stalledSocketCloseMs: number;
  /** A socket closed by force (abuse, full buffer) is terminated this long after its close frame. */
  forcedCloseGraceMs: number;
  /** Refused frames allowed per window before closing with 1008. */
  refusedFramesMax: number;
  refusedFramesWindowMs: number;
  /** Starts watching a socket that fell behind. */
  markSlow(connection: Connection): void;
  /** The last Presence frame of a canvas, sent to a member right after its Welcome. */
  presenceFrame(canvasId: string): Uint8Array | undefined;
  /** A member joined or left: presence is re-published soon, so everyone sees the change. */
  membersChanged(): void;
  /** True while the gateway is shutting down: no new placements. */
  draining(): boolean;
  helloTimeoutMs: number;
  /** Acks of protocol 3 clients wait for their room's next fan-out flush (see GatewayTuning.coalesceAcks). */
  coalesceAcks: boolean;
  /** Batches to protocol 4 clients carry PixelBatch.columns (see GatewayTuning.pixelColumns). */
  pixelColumns: boolean;
}
