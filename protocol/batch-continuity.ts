/** A copy's or a batch's place in the history of a canvas. */
export interface SeqPosition {
  readonly seq: bigint;
  readonly epoch: bigint;
}

/**
 * How a batch relates to a copy at some (seq, epoch):
 * - `apply`: seq + 1 in the same epoch, the only batch a copy may apply;
 * - `duplicate`: same epoch, seq at or below the copy's (already applied; an epoch marker of
 *   the copy's own epoch lands here, seq 0 after a reset included);
 * - `gap`: same epoch, beyond seq + 1: batches are missing and the copy must resync;
 * - `older-epoch` / `newer-epoch`: another history; a live copy must resync, while a copy that
 *   just loaded a newer snapshot may drop an older-epoch batch it buffered meanwhile.
 */
export type BatchContinuity = "apply" | "duplicate" | "gap" | "older-epoch" | "newer-epoch";

/**
 * The continuity rule of the protocol, shared by the web client, the gateway's rooms, the load
 * generator and the test clients: a batch applies only when it is seq + 1 in the same epoch.
 */
export function batchContinuity(copy: SeqPosition, batch: SeqPosition): BatchContinuity {
  if (batch.epoch !== copy.epoch) return batch.epoch < copy.epoch ? "older-epoch" : "newer-epoch";
  if (batch.seq <= copy.seq) return "duplicate";
  return batch.seq === copy.seq + 1n ? "apply" : "gap";
}
