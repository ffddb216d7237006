import { envInt } from "../../shared/config.js";

/** Default window in which a user may undo their last placement (Pxls: 5 s). */
export const UNDO_WINDOW_MS = 5_000;
/** Default number of undos a user may make per canvas per minute (Pxls: 3). */
export const UNDO_PER_MINUTE = 3;
/** The window UNDO_PER_MINUTE counts in. */
export const UNDO_LIMIT_WINDOW_MS = 60_000;
/** Batches of retained history an undo scans backwards for the caller's last placement, per read. */
export const UNDO_SCAN_CHUNK = 256;
/** How long a rollback (or its preview) waits for the archiver to reach the canvas's seq before planning at what is archived. */
export const ROLLBACK_CATCH_UP_MS = 5_000;
/** How often that wait polls the log. */
export const ROLLBACK_CATCH_UP_POLL_MS = 50;
/** Largest region ExportCanvas renders or GetCanvas rebuilds from the log, in pixels (the GetCanvas limit). */
export const MAX_EXPORT_PIXELS = 2048 * 2048;

/** The undo rules in force (UNDO_WINDOW_MS, UNDO_PER_MINUTE from the environment). */
export interface UndoSettings {
  windowMs: number;
  perMinute: number;
}

/** Reads UNDO_WINDOW_MS (0 disables undo) and UNDO_PER_MINUTE (at least 1). */
export function loadUndoSettings(env: NodeJS.ProcessEnv = process.env): UndoSettings {
  return { windowMs: envInt(env, "UNDO_WINDOW_MS", UNDO_WINDOW_MS, 0, 3_600_000), perMinute: envInt(env, "UNDO_PER_MINUTE", UNDO_PER_MINUTE, 1, 1_000) };
}
