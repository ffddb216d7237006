import type { FuzzOptions } from "./fuzz-run.js";

/** The fixed seed of the short form in `npm test`. */
export const SHORT_SEED = 0x5eed_f022;

/**
 * The short form: every phase, small counts, under a minute with process start. Budgets: the
 * gateway's and the canvas service's RSS may rise at most 64 MiB above idle in any phase.
 */
export const SHORT_FORM: FuzzOptions = {
  name: "fuzz-short",
  seed: SHORT_SEED,
  wsInputs: 12_000,
  apiInputs: 1_200,
  h2cInputs: 1_200,
  side: 128,
  concurrency: 6,
  burst: 32,
  flood: { socketsPerKind: 4, bytesPerSocket: 32 * 1024 * 1024, durationMs: 4_000, holdMs: 4_000 },
  rssBudgetMiB: { gateway: 64, canvas: 64 },
};

/**
 * The long form for `frames` inputs in all: 90 % on /ws, 5 % on /api, 5 % on h2c, with a longer
 * flood. The same budgets as the short form.
 */
export function longForm(frames: number, seed: number): FuzzOptions {
  const http = Math.round(frames * 0.05);
  return {
    ...SHORT_FORM,
    name: "fuzz-long",
    seed,
    wsInputs: frames - 2 * http,
    apiInputs: http,
    h2cInputs: http,
    concurrency: 8,
    flood: { socketsPerKind: 8, bytesPerSocket: 128 * 1024 * 1024, durationMs: 8_000, holdMs: 8_000 },
  };
}
