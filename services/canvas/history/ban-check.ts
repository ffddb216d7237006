import { Code, ConnectError } from "@connectrpc/connect";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import type { PlacementRun } from "../canvas-store.js";
import type { BanRecord } from "./ban-list.js";

/** A batch with its banned users' runs taken out (BanList is checked before the write script). */
export interface UnbannedBatch {
  pixels: PixelLike[];
  runs: PlacementRun[];
  /** Per run of the request, in order: the ban that refused it, or undefined for a run kept. */
  bans: (BanRecord | undefined)[];
}

/**
 * Takes out the runs whose user is banned. Returns undefined when no run is (the common case, no
 * copy); throws PermissionDenied, naming the reason, when every run is, since nothing is left to store.
 */
export function withoutBannedRuns(pixels: readonly PixelLike[], runs: readonly PlacementRun[], banOf: (userId: string) => BanRecord | undefined): UnbannedBatch | undefined {
  const bans = runs.map((run) => (run.author === undefined ? undefined : banOf(run.author.userId)));
  if (bans.every((b) => b === undefined)) return undefined;
  if (bans.every((b) => b !== undefined)) {
    const first = bans[0]!;
    throw new ConnectError(`user ${first.userId} is banned from placing pixels${first.reason === "" ? "" : `: ${first.reason}`}`, Code.PermissionDenied);
  }
  const kept: PixelLike[] = [];
  let at = 0;
  runs.forEach((run, i) => {
    if (bans[i] === undefined) kept.push(...pixels.slice(at, at + run.pixelCount));
    at += run.pixelCount;
  });
  return { pixels: kept, runs: runs.filter((_, i) => bans[i] === undefined), bans };
}
