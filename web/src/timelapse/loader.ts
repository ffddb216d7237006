import type { HistoryClient } from "../protocol/history-client.js";
import { TimelineBuilder, type Timeline } from "./timeline.js";

/** Pixels asked for per GetPlacements page: big enough for few round trips, small enough to show progress. */
export const PLACEMENTS_PAGE_PIXELS = 200_000;

/**
 * Reads a canvas's archived placements of its current epoch, page by page, up to the archived
 * seq of the first answer (a log that keeps growing is not chased), into a Timeline.
 * `onProgress` hears the placements read so far.
 */
export async function loadTimeline(client: Pick<HistoryClient, "getPlacements">, canvasId: string, onProgress: (placements: number) => void, signal?: AbortSignal): Promise<Timeline> {
  const first = await client.getPlacements({ canvasId, afterSeq: 0n, maxPixels: PLACEMENTS_PAGE_PIXELS }, { signal });
  const builder = new TimelineBuilder(first);
  const epoch = first.epoch;
  const until = first.archivedSeq;
  let page = first;
  for (;;) {
    builder.add(page);
    onProgress(builder.size);
    if (page.batches.length === 0 || page.nextAfterSeq >= until) break;
    page = await client.getPlacements({ canvasId, epoch, afterSeq: page.nextAfterSeq, maxPixels: PLACEMENTS_PAGE_PIXELS }, { signal });
  }
  return builder.build();
}
