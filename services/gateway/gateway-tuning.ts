import {
  FORCED_CLOSE_GRACE_MS,
  SOCKET_PING_INTERVAL_MS,
  HELLO_TIMEOUT_MS,
  PRESENCE_DEBOUNCE_MS, PRESENCE_INTERVAL_MS, PRESENCE_MIN_INTERVAL_MS,
  PRESENCE_TTL_MS,
  SLOW_CONSUMER_CHECK_MS,
  SLOW_CONSUMER_TIMEOUT_MS,
  STALLED_SOCKET_CLOSE_MS,
  WRITE_ATTEMPT_TIMEOUT_MS,
  WRITE_DEADLINE_MS,
} from "../shared/timing.js";

/** Hellos a connection may send in a burst ... */
export const HELLO_BURST = 5;
/** ... and per second after it: each may cost a whole snapshot. */
export const HELLOS_PER_SECOND = 0.5;
/** Frames that may wait while a Hello is being served; more is abuse (1008). */
export const MAX_DEFERRED_FRAMES = 64;

/**
 * Every bound and interval of the gateway in one place. The shared ones come from
 * services/shared/timing.ts; the rest only the gateway uses. Tests shrink them.
 */
export interface GatewayTuning {
  socketPingIntervalMs: number;
  helloTimeoutMs: number;
  presenceIntervalMs: number;
  /** After a join or leave, presence is re-published this soon (coalescing bursts of joins). */
  presenceDebounceMs: number;
  /** Join- or leave-triggered presence refreshes run at most this often (a storm of joins broadcasts once a second). */
  presenceMinIntervalMs: number;
  presenceTtlMs: number;
  slowConsumerCheckMs: number;
  slowConsumerTimeoutMs: number;
  /**
   * Queued bytes on a socket after which it stops getting batches. Queued
   * bytes are what the transport accounts for the frames it has not yet passed to the kernel:
   * each frame's bytes plus QUEUED_FRAME_OVERHEAD_BYTES (transport/ws-client-socket.ts).
   */
  slowConsumerBytes: number;
  /** A slow socket counts as drained, and is resynced, at or below this many queued bytes. */
  slowConsumerDrainedBytes: number;
  /**
   * Hard cap on a socket's queued bytes for every frame, not only batches:
   * a frame that would go over it closes the socket with 4001 instead of being queued. Above
   * slowConsumerBytes, so a reader that is merely slow is skipped (and resynced) long before it.
   * Midway between the two, the gateway stops reading the socket until it drains (session/outbox.ts).
   */
  sendBufferMaxBytes: number;
  /** A socket whose reads were paused and whose queue did not drain within this long is closed with 4001. */
  stalledSocketCloseMs: number;
  /** A socket closed for abuse or a full send buffer is cut off this long after the close frame. */
  forcedCloseGraceMs: number;
  /** Refused frames (INVALID_ARGUMENT, RATE_LIMITED, NOT_JOINED, ...) a socket may cause per window ... */
  refusedFramesMax: number;
  /** ... of this length; one more closes it with 1008. */
  refusedFramesWindowMs: number;
  writeDeadlineMs: number;
  writeAttemptTimeoutMs: number;
  writeBackoffBaseMs: number;
  writeMaxBackoffMs: number;
  /** Pixels waiting per canvas before a Place is refused with OVERLOADED. */
  writeQueueMaxPixels: number;
  /** SetPixels calls in flight per canvas. */
  writeMaxInFlight: number;
  /** Resume history per room: the last this many batches ... */
  ringMaxBatches: number;
  /** ... and at most this many bytes of frames. */
  ringMaxBytes: number;
  /**
   * Fan-out frame budget per room member: a room flushes its pending batches (one frame per
   * member) at most once per members × this many microseconds, so 25 µs caps a room at about
   * 40,000 frames/s whatever its size ...
   */
  fanoutMicrosPerMember: number;
  /** ... and never waits longer than this many ms since its last flush (the latency cap); 0 flushes once per I/O turn (while the frame budget below does not apply). */
  fanoutTickMaxMs: number;
  /**
   * The frame budget (env FRAME_BUDGET_MS): while the gateway is under load, a room flushes at most
   * once per this many ms, so a socket gets at most one frame of batches (and acks) per display
   * refresh carrying everything since its last; the first batch after a quiet period still goes at
   * once. 0 turns it off (the adaptive tick above alone).
   */
  frameBudgetMs: number;
  /**
   * When the gateway counts as under load (env FRAME_BUDGET_LOAD, percent): its event loop busy at
   * least this fraction of three sampling windows in a row (room/load-gauge.ts). 0: always, so the budget paces every
   * room whose batches keep coming.
   */
  frameBudgetLoad: number;
  /**
   * Acks of protocol 3 clients wait for their room's next flush and ride its frame (env
   * COALESCE_ACKS, 1 or 0); off, every Place gets its own `ack` frame at once.
   */
  coalesceAcks: boolean;
  /**
   * Batches to protocol 4 clients carry their pixels in PixelBatch.columns (env PIXEL_COLUMNS, 1 or
   * 0); off, they get PixelBatch.pixels as protocol 3 clients do (readers take either).
   */
  pixelColumns: boolean;
  /** Batches buffered while a room re-snapshots. */
  backlogMaxBatches: number;
  /** An empty room stays subscribed this long. */
  roomLingerMs: number;
  /** Deadline of a room's GetCanvas, and of the bus confirming its subscription. */
  snapshotTimeoutMs: number;
  resyncRetryMs: number;
  /** How often readiness re-checks the canvas service. */
  readyCheckIntervalMs: number;
  readyCheckTimeoutMs: number;
}

/** The production values. */
export const DEFAULT_TUNING: GatewayTuning = {
  socketPingIntervalMs: SOCKET_PING_INTERVAL_MS,
  helloTimeoutMs: HELLO_TIMEOUT_MS,
  presenceIntervalMs: PRESENCE_INTERVAL_MS,
  presenceDebounceMs: PRESENCE_DEBOUNCE_MS,
  presenceMinIntervalMs: PRESENCE_MIN_INTERVAL_MS,
  presenceTtlMs: PRESENCE_TTL_MS,
  slowConsumerCheckMs: SLOW_CONSUMER_CHECK_MS,
  slowConsumerTimeoutMs: SLOW_CONSUMER_TIMEOUT_MS,
  slowConsumerBytes: 1024 * 1024,
  slowConsumerDrainedBytes: 64 * 1024,
  sendBufferMaxBytes: 4 * 1024 * 1024,
  stalledSocketCloseMs: STALLED_SOCKET_CLOSE_MS,
  forcedCloseGraceMs: FORCED_CLOSE_GRACE_MS,
  refusedFramesMax: 100,
  refusedFramesWindowMs: 10_000,
  writeDeadlineMs: WRITE_DEADLINE_MS,
  writeAttemptTimeoutMs: WRITE_ATTEMPT_TIMEOUT_MS,
  writeBackoffBaseMs: 50,
  writeMaxBackoffMs: 1_000,
  writeQueueMaxPixels: 100_000,
  writeMaxInFlight: 1,
  ringMaxBatches: 1_024,
  ringMaxBytes: 8 * 1024 * 1024,
  fanoutMicrosPerMember: 25,
  fanoutTickMaxMs: 20,
  frameBudgetMs: 16,
  frameBudgetLoad: 0.3,
  coalesceAcks: true,
  pixelColumns: true,
  backlogMaxBatches: 10_000,
  roomLingerMs: 30_000,
  snapshotTimeoutMs: 5_000,
  resyncRetryMs: 500,
  readyCheckIntervalMs: 2_000,
  readyCheckTimeoutMs: 1_000,
};
