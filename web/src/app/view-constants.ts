/** Tuning constants of the canvas view: timings and wheel rates (the protocol's timings are in ../protocol/timing.ts). */

/** At most one history.replaceState per this long while the view moves; the last view is always written. */
export const URL_WRITE_INTERVAL_MS = 300;

/** The minimap redraws its overview at most this often while pixels change. */
export const MINIMAP_REFRESH_MS = 250;

/** Zoom per wheel pixel: a 100-pixel notch zooms by e^0.2 ≈ 1.22. */
export const WHEEL_ZOOM_PER_PX = 0.002;

/** Zoom per wheel pixel for trackpad pinches (Chrome reports them as wheel events with Ctrl, in small deltas). */
export const PINCH_WHEEL_ZOOM_PER_PX = 0.01;

/** Overview tiles on screen are read again this often (the canvas service rebuilds them at most every 5 s). */
export const OVERVIEW_REFRESH_MS = 5_000;
