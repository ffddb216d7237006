/** Tuning constants of the canvas view: wheel rates (every client-side timing is in ../protocol/timing.ts). */

/** Zoom per wheel pixel: a 100-pixel notch zooms by e^0.2 ≈ 1.22. */
export const WHEEL_ZOOM_PER_PX = 0.002;

/** Zoom per wheel pixel for trackpad pinches (Chrome reports them as wheel events with Ctrl, in small deltas). */
export const PINCH_WHEEL_ZOOM_PER_PX = 0.01;

