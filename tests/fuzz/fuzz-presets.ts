import type { FuzzOptions } from "./fuzz-run.js";

/** The fixed seed of the short form in `npm test`. */
export const SHORT_SEED = 0x5eed_f022;

/**
 * The short form: every phase, small counts, about 30 s with process start. Budgets: the gateway's
 * RSS may rise at most 96 MiB above idle in any phase (about 3x what fuzzing costs it), the canvas
 * service's 128 MiB. The canvas figure is measured, not guessed: in the 100k long form its RSS peaks
 * about 100 MiB above idle (h2c phase, up to 8 uploads of 1 MiB in flight), while its heap after a
 * forced full GC stays within 5 MiB of idle in every phase; the rest is V8 collecting lazily, so
 * 128 MiB leaves about a quarter of headroom and still catches a leak like the one that kept every
 * WritePixels request (+50 MiB of live heap after the /ws phase alone).
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
  flood: { socketsPerKind: 4, bytesPerSocket: 64 * 1024 * 1024, durationMs: 6_000, holdMs: 4_000 },
  rssBudgetMiB: { gateway: 96, canvas: 128 },
};

/**
 * The long form for `frames` inputs in all: 90 % on /ws, 5 % on /api, 5 % on h2c; the same flood
 * and budgets as the short form.
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
  };
}
