import { validateName } from "../../protocol/pixel-validation.js";

/** Longest user id accepted in a batch's authorship (ours are 24 characters; room for OAuth account ids). */
export const MAX_USER_ID_LENGTH = 64;

/** One run of consecutive pixels of a batch placed by one person (pixel.v1.Author). */
export interface AuthorRun {
  userId: string;
  name: string;
  pixelCount: number;
}

/**
 * Why `runs` cannot be the authorship of a batch of `pixelCount` pixels, or undefined when it can:
 * empty (no authorship), or runs of 1 or more pixels adding up to exactly `pixelCount`, each with a
 * non-empty user id of at most MAX_USER_ID_LENGTH characters and a valid display name.
 */
export function validateAuthorRuns(runs: readonly AuthorRun[], pixelCount: number): string | undefined {
  if (runs.length === 0) return undefined;
  let total = 0;
  for (const [i, run] of runs.entries()) {
    if (run.userId === "" || run.userId.length > MAX_USER_ID_LENGTH) return `authors[${i}].user_id must have 1 to ${MAX_USER_ID_LENGTH} characters`;
    const badName = validateName(run.name);
    if (badName !== undefined) return `authors[${i}].name: ${badName}`;
    if (run.pixelCount < 1) return `authors[${i}].pixel_count must be at least 1`;
    total += run.pixelCount;
  }
  if (total !== pixelCount) return `authors' pixel_count values add up to ${total}, but the batch has ${pixelCount} pixels`;
  return undefined;
}
