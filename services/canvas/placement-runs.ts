import type { PixelLike } from "../shared/pixel-validation.js";
import type { CanvasBudget } from "./budget-settings.js";
import { PlacementTooLargeError, type PlacementRun } from "./canvas-store.js";
import { budgetCapacity, type BudgetedRun } from "./placement-budget.js";

/** A batch's runs as both stores need them: each run's pixels, and its budget keys (none without budgets). */
export interface ResolvedRuns {
  pixels: (readonly PixelLike[])[];
  /** Undefined when the canvas has no budget: every run is stored. */
  budgeted: BudgetedRun[] | undefined;
}

/**
 * Splits `pixels` into the runs of a setPixels call and names their budget keys under `keyPrefix`
 * (`<prefix>u:<user>`, `<prefix>ip:<network>`). Without `runs` the batch is one unbudgeted run.
 * Throws RangeError when the runs do not cover the pixels exactly, and PlacementTooLargeError when a
 * run exceeds what the canvas's budget could ever hold (so it is refused as invalid, never as "wait").
 */
export function resolveRuns(pixels: readonly PixelLike[], runs: readonly PlacementRun[] | undefined, budget: CanvasBudget | undefined, keyPrefix: string): ResolvedRuns {
  if (runs === undefined) return { pixels: [pixels], budgeted: undefined };
  const slices: (readonly PixelLike[])[] = [];
  let at = 0;
  for (const run of runs) {
    if (!Number.isInteger(run.pixelCount) || run.pixelCount < 1) throw new RangeError(`a run covers ${run.pixelCount} pixels; at least 1`);
    slices.push(runs.length === 1 ? pixels : pixels.slice(at, at + run.pixelCount));
    at += run.pixelCount;
  }
  if (at !== pixels.length) throw new RangeError(`the runs cover ${at} pixels but the batch has ${pixels.length}`);
  if (budget === undefined) return { pixels: slices, budgeted: undefined };
  const capacity = budgetCapacity(budget.user);
  const budgeted = runs.map((run) => {
    if (run.pixelCount > capacity) {
      throw new PlacementTooLargeError(`a placement of ${run.pixelCount} pixels exceeds this canvas's budget of ${capacity} pixels at once`);
    }
    return { pixelCount: run.pixelCount, userKey: `${keyPrefix}u:${run.userKey}`, ipKey: run.ipKey === "" ? undefined : `${keyPrefix}ip:${run.ipKey}` };
  });
  return { pixels: slices, budgeted };
}
