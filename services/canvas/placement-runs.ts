import type { PixelLike } from "../../protocol/pixel-validation.js";
import type { CanvasBudget } from "./budget-settings.js";
import { PlacementTooLargeError, type PlacementRun } from "./canvas-store.js";
import { encodeAuthor } from "./pixel-batch-codec.js";
import { budgetCapacity, type BudgetedRun } from "./placement-budget.js";

/** A batch's runs as both stores need them: each run's pixels, and its budget keys (none without budgets). */
export interface ResolvedRuns {
  /** Per run its pixels; one piece holding every pixel when nothing is budgeted (all are stored together). */
  pixels: (readonly PixelLike[])[];
  /**
   * Per piece of `pixels`, its PixelBatch.authors entries (`encodeAuthor`; empty for runs without
   * an author), so a store publishes the authorship of exactly the runs it stored.
   */
  authors: Uint8Array[];
  /** Undefined when the canvas has no budget (or the call named no runs): every run is stored. */
  budgeted: BudgetedRun[] | undefined;
  /** How many runs the call named (1 without runs): the length of the answer's retryAfterMs. */
  runCount: number;
}

/**
 * Splits `pixels` into the runs of a setPixels call and names their budget keys under `keyPrefix`
 * (`<prefix>u:<user>`, `<prefix>ip:<network>`). Without `runs` the batch is one unbudgeted run.
 * Throws RangeError when the runs do not cover the pixels exactly, and PlacementTooLargeError when a
 * run exceeds what the canvas's budget could ever hold (so it is refused as invalid, never as "wait").
 */
export function resolveRuns(pixels: readonly PixelLike[], runs: readonly PlacementRun[] | undefined, budget: CanvasBudget | undefined, keyPrefix: string): ResolvedRuns {
  if (runs === undefined) return { pixels: [pixels], authors: [new Uint8Array(0)], budgeted: undefined, runCount: 1 };
  let covered = 0;
  for (const run of runs) {
    if (!Number.isInteger(run.pixelCount) || run.pixelCount < 1) throw new RangeError(`a run covers ${run.pixelCount} pixels; at least 1`);
    covered += run.pixelCount;
  }
  if (covered !== pixels.length) throw new RangeError(`the runs cover ${covered} pixels but the batch has ${pixels.length}`);
  // Unbudgeted runs are all stored: one piece packs nearby pixels of different runs together.
  if (budget === undefined) return { pixels: [pixels], authors: [Buffer.concat(runs.map(authorEntry))], budgeted: undefined, runCount: runs.length };
  const capacity = budgetCapacity(budget.user);
  const slices: (readonly PixelLike[])[] = [];
  let at = 0;
  const budgeted = runs.map((run) => {
    if (run.pixelCount > capacity) {
      throw new PlacementTooLargeError(`a placement of ${run.pixelCount} pixels exceeds this canvas's budget of ${capacity} pixels at once`);
    }
    slices.push(runs.length === 1 ? pixels : pixels.slice(at, at + run.pixelCount));
    at += run.pixelCount;
    return { pixelCount: run.pixelCount, userKey: `${keyPrefix}u:${run.userKey}`, ipKey: run.ipKey === "" ? undefined : `${keyPrefix}ip:${run.ipKey}` };
  });
  return { pixels: slices, authors: runs.map(authorEntry), budgeted, runCount: runs.length };
}

/** A run's PixelBatch.authors entry; empty for a run without an author (an anonymous caller). */
function authorEntry(run: PlacementRun): Uint8Array {
  return run.author === undefined ? new Uint8Array(0) : encodeAuthor({ ...run.author, pixelCount: run.pixelCount });
}
