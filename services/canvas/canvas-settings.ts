import { envInt, loadConfig } from "../shared/config.js";
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
  return { historyBatches: envInt(env, "CANVAS_HISTORY_BATCHES", HISTORY_MAX_BATCHES, 1, 1_000_000), budgets };
}
