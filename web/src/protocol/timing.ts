/** Every client-side timing constant, in one place, so tests and the README can name them. */

/** First reconnect delay ceiling; full jitter draws the real delay from [0, ceiling). */
export const BACKOFF_BASE_MS = 100;
/** The reconnect delay ceiling doubles per failed attempt up to this cap. */
export const MAX_BACKOFF_MS = 2_000;
/**
 * How often a connected client sends an application-level Ping frame, so its watchdog has something to
 * hear (the gateway's own WebSocket-level ping is SOCKET_PING_INTERVAL_MS in services/shared/timing.ts).
 */
export const APP_PING_INTERVAL_MS = 5_000;
/** A socket that delivered nothing for this long is presumed dead (half-open) and replaced (close 4000 HEARTBEAT_TIMEOUT). */
export const SILENT_SOCKET_TIMEOUT_MS = 12_000;
/** From opening a socket to receiving its Welcome; past this the attempt counts as failed. */
export const CONNECT_TIMEOUT_MS = 5_000;
/**
 * Reconnects that skip the backoff (close 1012, slow-consumer drop, seq gap) are allowed at most
 * once per this interval, so a misbehaving server cannot drive a tight reconnect loop.
 */
export const IMMEDIATE_RECONNECT_MIN_INTERVAL_MS = 1_000;
/** How often the app flushes a drag's buffered pixels into Place frames. */
export const STROKE_FLUSH_INTERVAL_MS = 40;
/** How long an error or refusal message stays visible in the app. */
export const NOTICE_VISIBLE_MS = 4_000;
/** A view's tiles are watched once it rested this long, so a pan sends one Watch, not one per frame. */
export const WATCH_DEBOUNCE_MS = 100;
/** First delay before reading a tile again after a failed or too-old read; doubles per failure. */
export const TILE_RETRY_BASE_MS = 200;
/** Cap of the tile read retry delay. */
export const TILE_RETRY_MAX_MS = 3_000;
/** At most one history.replaceState per this long while the view moves; the last view is always written. */
export const URL_WRITE_INTERVAL_MS = 300;
/** The minimap redraws its overview at most this often while pixels change. */
export const MINIMAP_REFRESH_MS = 250;
/** Overview tiles on screen are read again this often (the canvas service rebuilds them at most every 5 s). */
export const OVERVIEW_REREAD_MS = 5_000;
/** How often the cooldown indicator redraws while counting down. */
export const COOLDOWN_TICK_MS = 250;
/** The pointer must rest on a pixel this long before the app asks who placed it (hover lookup). */
export const LOOKUP_HOVER_DELAY_MS = 350;
/** A lookup whose answer the placement log had not caught up with is asked again after this long, while still wanted. */
export const LOOKUP_RETRY_MS = 500;
/** How many times a trailing lookup is asked again before the answer is shown as it is. */
export const LOOKUP_MAX_RETRIES = 10;
/** The timelapse bar's position and label redraw at most this often while playing (the canvas redraws every frame). */
export const TIMELAPSE_BAR_REFRESH_MS = 100;
