/** Every server-side timing constant, in one place. */

/**
 * The gateway sends each socket a WebSocket-level ping this often and terminates one that did not pong
 * the previous one (the web client's own application-level Ping is APP_PING_INTERVAL_MS in web/src/protocol/timing.ts).
 */
export const SOCKET_PING_INTERVAL_MS = 30_000;
/** A socket that sends no Hello within this time is closed with 4002. */
export const HELLO_TIMEOUT_MS = 10_000;
/** Longest wait between Redis reconnection attempts. */
export const REDIS_MAX_BACKOFF_MS = 2_000;
/** How long the gateway keeps retrying a SetPixels before answering Unavailable. */
export const WRITE_DEADLINE_MS = 5_000;
/** Deadline of one SetPixels attempt. */
export const WRITE_ATTEMPT_TIMEOUT_MS = 2_000;
/** How often a gateway refreshes its presence entry and re-reads everyone's. */
export const PRESENCE_INTERVAL_MS = 2_000;
/** After a join or leave, a gateway re-publishes presence this soon, so the joiner counts at once. */
export const PRESENCE_DEBOUNCE_MS = 100;
/** Join- or leave-triggered presence refreshes run at most this often, so a storm of joins costs one broadcast a second. */
export const PRESENCE_MIN_INTERVAL_MS = 1_000;
/** A presence entry not refreshed for this long belongs to a dead gateway and is ignored. */
export const PRESENCE_TTL_MS = 6_000;
/** How long SIGTERM waits for in-flight work before exiting anyway (drainOnSignal). */
export const SHUTDOWN_GRACE_MS = 10_000;
/** A gateway process's share of the grace: sockets get 1012 and in-flight writes this long (at most one write deadline). */
export const GATEWAY_DRAIN_MS = Math.min(WRITE_DEADLINE_MS, SHUTDOWN_GRACE_MS / 2);
/** A canvas process's share of the grace for in-flight calls and streams; the rest is for the store's final flush. */
export const CANVAS_DRAIN_MS = SHUTDOWN_GRACE_MS * 0.7;
/** `npm start` drains its gateway, then its canvas service, in one process: each stage gets this third of the grace. */
export const EMBEDDED_STAGE_DRAIN_MS = SHUTDOWN_GRACE_MS / 3;
/** The gateway's HTTP/2 keepalive to the canvas service: a PING this often on an idle connection ... */
export const CANVAS_PING_INTERVAL_MS = 10_000;
/** ... and the connection counts as dead when its answer takes longer than this. */
export const CANVAS_PING_TIMEOUT_MS = 5_000;
/** How often the gateway checks slow consumers' send buffers. */
export const SLOW_CONSUMER_CHECK_MS = 250;
/** A slow consumer still behind after this long is closed with 4001. */
export const SLOW_CONSUMER_TIMEOUT_MS = 10_000;
/** A canvas-store Redis command that gets no reply within this time fails with Unavailable, well inside the gateway's per-attempt deadline. */
export const REDIS_COMMAND_TIMEOUT_MS = 1_500;
/** First reconnection delay of every Redis connection; it doubles per attempt up to REDIS_MAX_BACKOFF_MS (the canvas service's connections add jitter: see services/canvas/store-redis-options.ts). */
export const REDIS_BASE_BACKOFF_MS = 50;
/** The embedded store saves a changed canvas at most this long after its first unsaved write, so a crash loses at most this window. */
export const PERSIST_INTERVAL_MS = 200;
/** How often a draining canvas HTTP/1.1 server closes connections that became idle. */
export const SHUTDOWN_SWEEP_MS = 50;
/** How often a Health.Watch stream re-reads readiness to report a change. */
export const HEALTH_WATCH_POLL_MS = 500;
/**
 * A socket closed for abuse (1008) or a slow consumer's timeout is terminated this long after its close
 * frame: a client that reads answers within one round trip, a flooding one never does.
 */
export const FORCED_CLOSE_GRACE_MS = 500;
/**
 * A socket whose reads were paused because its send queue was not draining is closed with 4001, and
 * terminated at once (its close frame would wait behind the queue), when it has not drained within this long.
 */
export const STALLED_SOCKET_CLOSE_MS = 500;
/** On shutdown, how long the gateway waits for clients to answer its 1012 close frames before cutting them off. */
export const CLOSE_HANDSHAKE_WAIT_MS = 1_000;
/** An overview tile (level > 0) is rebuilt from changed tiles under it at most this often; it may lag the canvas by this much. */
export const OVERVIEW_REFRESH_MS = 5_000;
/** Browsers and CDNs may reuse a tile for this long (Cache-Control max-age, in seconds) before revalidating with its ETag, as r/place's 1 s. */
export const TILE_MAX_AGE_S = 1;
/** Window of the per-address cap on new sessions. */
export const SESSION_RATE_WINDOW_MS = 60_000;
/** Expired budget keys are swept at most this often, so idle people cost no memory for long. */
export const BUDGET_SWEEP_INTERVAL_MS = 10_000;
