import { Code, ConnectError } from "@connectrpc/connect";
import { MAX_RESTORE_PIXELS, type CanvasStore } from "../canvas-store.js";
import type { PlacementLog, RollbackFilter, RollbackPlan } from "../../history/placement-log.js";
import { fromLog, headOf } from "./canvas-at.js";
import { ROLLBACK_CATCH_UP_MS, ROLLBACK_CATCH_UP_POLL_MS } from "./history-settings.js";

/** PixelBatch.author of a rollback batch (the admin is in the audit trail, not on the canvas). */
export const ROLLBACK_AUTHOR = "moderation";

/** What a rollback wrote. */
export interface RollbackResult {
  seqs: number[];
  epoch: number;
  restored: number;
  /** Matching pixels left alone: painted later outside the filter (per the log), or since the plan (per the store's check). */
  skipped: number;
}

/**
 * Plans a rollback at the canvas's current seq: waits (up to ROLLBACK_CATCH_UP_MS) for the archiver
 * to reach it, and fails with Unavailable when it has not (a plan from a trailing log would leave the
 * newest matching placements). Anything painted after the plan is protected by the conditional write.
 */
export async function planRollback(store: CanvasStore, log: PlacementLog, canvasId: string, filter: RollbackFilter): Promise<RollbackPlan> {
  const head = await headOf(store, canvasId);
  const deadline = Date.now() + ROLLBACK_CATCH_UP_MS;
  let archived = await fromLog(() => log.archivedSeq(canvasId, head.epoch));
  while (archived < head.seq && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, ROLLBACK_CATCH_UP_POLL_MS));
    archived = await fromLog(() => log.archivedSeq(canvasId, head.epoch));
  }
  if (archived < head.seq) {
    // A plan from a log that trails would miss the newest matching placements: say so rather than restore part.
    throw new ConnectError(`the placement log is ${head.seq - archived} batches behind canvas "${canvasId}" (archived seq ${archived} of ${head.seq}); retry once the archiver has caught up`, Code.Unavailable);
  }
  return fromLog(() => log.rollbackPlan({ canvasId, epoch: head.epoch, atSeq: head.seq, filter }));
}

/**
 * Writes a plan as ordinary sequenced batches of at most MAX_RESTORE_PIXELS, each pixel only while
 * it still shows the colour the rolled-back placement left (CanvasStore.restore), so concurrent
 * painting is never overwritten.
 */
export async function applyRollback(store: CanvasStore, canvasId: string, plan: RollbackPlan): Promise<RollbackResult> {
  const result: RollbackResult = { seqs: [], epoch: plan.epoch, restored: 0, skipped: plan.skipped };
  for (let at = 0; at < plan.restore.length; at += MAX_RESTORE_PIXELS) {
    const writes = plan.restore.slice(at, at + MAX_RESTORE_PIXELS).map((r) => ({ x: r.x, y: r.y, color: r.color, expected: r.expectedColor }));
    const done = await store.restore(canvasId, writes, { kind: "rollback", author: ROLLBACK_AUTHOR });
    if (done.restored > 0) result.seqs.push(done.seq);
    result.epoch = done.epoch;
    result.restored += done.restored;
    result.skipped += done.skipped;
  }
  return result;
}
