import { ConfigError } from "../shared/config.js";
import { HISTORY_MAX_BATCHES } from "./canvas-store.js";

/** Settings only the canvas service reads, beyond services/shared/config.ts. */
export interface CanvasSettings {
  /** CANVAS_HISTORY_BATCHES: batches of history kept per canvas (default HISTORY_MAX_BATCHES). */
  historyBatches: number;
}

/** Reads the canvas service's own environment variables, validated at the edge. */
export function loadCanvasSettings(env: NodeJS.ProcessEnv = process.env): CanvasSettings {
  const raw = env.CANVAS_HISTORY_BATCHES;
  if (raw === undefined || raw === "") return { historyBatches: HISTORY_MAX_BATCHES };
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new ConfigError(`CANVAS_HISTORY_BATCHES=${raw} must be an integer from 1 to 1000000`);
  }
  return { historyBatches: value };
}
