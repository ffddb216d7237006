import { ConfigError, loadConfig } from "../shared/config.js";
import { parseBudgetSettings, type BudgetSettings } from "./budget-settings.js";
import { HISTORY_MAX_BATCHES } from "./canvas-store.js";

/** Settings only the canvas service reads, beyond services/shared/config.ts. */
export interface CanvasSettings {
  /** CANVAS_HISTORY_BATCHES: batches of history kept per canvas (default HISTORY_MAX_BATCHES). */
  historyBatches: number;
  /** CANVAS_BUDGETS and IP_BUDGET_FACTOR: the placement budgets (see budget-settings.ts). */
  budgets: BudgetSettings;
}

/** Reads the canvas service's own environment variables, validated at the edge. */
export function loadCanvasSettings(env: NodeJS.ProcessEnv = process.env): CanvasSettings {
  const config = loadConfig(env);
  const budgets = parseBudgetSettings(env, config);
  const raw = env.CANVAS_HISTORY_BATCHES;
  if (raw === undefined || raw === "") return { historyBatches: HISTORY_MAX_BATCHES, budgets };
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new ConfigError(`CANVAS_HISTORY_BATCHES=${raw} must be an integer from 1 to 1000000`);
  }
  return { historyBatches: value, budgets };
}
