/** A pixel as the ledger sees it. */
export interface LedgerPixel {
  x: number;
  y: number;
  color: number;
}

/** The canvas a ledger is checked against: row-major RGB at (seq, epoch), as GetCanvas returns it. */
export interface StoredCanvas {
  width: number;
  height: number;
  seq: bigint;
  epoch: bigint;
  pixels: Uint8Array;
}

/** Why an acknowledged pixel counts as lost. */
export type LossReason =
  /** The stored batch with the acked seq does not hold the pixel in its colour: the Ack named the wrong batch, or storage dropped it. */
  | "missing-from-batch"
  /** Its batch holds it, but the final canvas does not and no later stored write at that place explains why. */
  | "not-on-canvas";

/** One acknowledged pixel that storage does not account for. */
export interface LostPixel extends LedgerPixel {
  /** The seq its Ack named. */
  seq: bigint;
  /** The colour the final canvas holds there. */
  stored: number;
  reason: LossReason;
}

/** The result of checking every acknowledged placement against the stored history and canvas. */
export interface LedgerCheck {
  /** Acknowledged placements recorded. */
  ackedPlacements: number;
  /** Acknowledged pixels recorded. */
  ackedPixels: number;
  /** Acknowledged placements whose stored batch holds every one of their pixels and whose pixels the canvas accounts for. */
  verifiedPlacements: number;
  /** Acknowledged pixels lost: must be 0. */
  lost: LostPixel[];
  /** Acks whose seq is above the stored seq (an Ack sent before the write was stored, or storage went back in time): must be 0. */
  acksAheadOfStorage: number;
  /** Acks older than the retained history, which therefore cannot be checked: must be 0 (size the history to the run). */
  acksOutsideHistory: number;
  /** Acks from another epoch than storage's (history was reset or lost): reported, not checked pixel by pixel. */
  acksFromOtherEpochs: number;
  /** Pixels in batches holding acked placements that no placement sent during the run explains: must be 0. */
  unexplainedPixels: number;
}

/** The failures a check amounts to, one line each; every suite fails on any of them. */
export function ledgerFailures(check: LedgerCheck): string[] {
  const failures: string[] = [];
  const byReason = (r: LossReason) => check.lost.filter((p) => p.reason === r).length;
  if (byReason("missing-from-batch") > 0) failures.push(`${byReason("missing-from-batch")} acked pixels missing from the stored batch their Ack named`);
  if (byReason("not-on-canvas") > 0) failures.push(`${byReason("not-on-canvas")} acked pixels missing from the canvas with no later write explaining it`);
  if (check.acksAheadOfStorage > 0) failures.push(`${check.acksAheadOfStorage} acks name a seq storage has not reached`);
  if (check.acksOutsideHistory > 0) failures.push(`${check.acksOutsideHistory} acks are older than the retained history and could not be checked`);
  if (check.unexplainedPixels > 0) failures.push(`${check.unexplainedPixels} pixels in acked batches that no placement explains`);
  if (check.ackedPixels === 0) failures.push("nothing was acknowledged");
  return failures;
}

interface StoredBatch {
  pixels: readonly LedgerPixel[];
}

/**
 * Records every placement sent and every one acknowledged, and the stored history, so that after
 * a run each Ack can be checked against the batch it named: that batch (same epoch, same seq) must
 * hold every pixel of the placement in its colour, and every pixel in it must come from some
 * placement sent during the run (the gateway merges several placements into one batch, and a
 * placement whose Ack was lost with its gateway may be stored too). Each acked pixel must also be
 * on the final canvas unless a later stored write at that place explains why not.
 */
export class AckLedger {
  private readonly acked: Array<{ seq: bigint; epoch: bigint; pixels: readonly LedgerPixel[] }> = [];
  private readonly sent = new Set<string>();
  /** "epoch:seq" -> the stored batch. */
  private readonly history = new Map<string, StoredBatch>();

  /** Records a placement sent to a gateway, whatever becomes of it. */
  recordSent(pixels: readonly LedgerPixel[]): void {
    for (const p of pixels) this.sent.add(pixelKey(p));
  }

  /** Records a placement the gateway acknowledged as stored in batch `seq` of `epoch`. */
  recordAck(seq: bigint, epoch: bigint, pixels: readonly LedgerPixel[]): void {
    this.acked.push({ seq, epoch, pixels });
  }

  /** Records one batch of the canvas's stored history. */
  recordStoredBatch(seq: bigint, epoch: bigint, pixels: readonly LedgerPixel[]): void {
    this.history.set(`${epoch}:${seq}`, { pixels });
  }

  /** The seqs (in the given epoch, ascending) of the recorded stored batches that hold `p` in its colour. */
  batchesHolding(p: LedgerPixel, epoch = 1n): bigint[] {
    const seqs: bigint[] = [];
    for (const [key, batch] of this.history) {
      const [batchEpoch, seq] = key.split(":");
      if (BigInt(batchEpoch as string) === epoch && batch.pixels.some((q) => q.x === p.x && q.y === p.y && q.color === p.color)) seqs.push(BigInt(seq as string));
    }
    return seqs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Checks every acknowledged placement against the recorded history and `stored`, the final canvas. */
  check(stored: StoredCanvas): LedgerCheck {
    const result: LedgerCheck = { ackedPlacements: this.acked.length, ackedPixels: 0, verifiedPlacements: 0, lost: [], acksAheadOfStorage: 0, acksOutsideHistory: 0, acksFromOtherEpochs: 0, unexplainedPixels: 0 };
    const lastWrites = this.lastWrites(stored.epoch);
    const ackedBatches = new Set<string>();
    for (const placement of this.acked) {
      result.ackedPixels += placement.pixels.length;
      if (placement.epoch !== stored.epoch) {
        result.acksFromOtherEpochs++;
        continue;
      }
      if (placement.seq > stored.seq) {
        result.acksAheadOfStorage++;
        continue;
      }
      const batchKey = `${placement.epoch}:${placement.seq}`;
      const batch = this.history.get(batchKey);
      if (!batch) {
        result.acksOutsideHistory++;
        continue;
      }
      ackedBatches.add(batchKey);
      let kept = true;
      for (const p of placement.pixels) {
        const color = colorAt(stored, p);
        // The last place in the batch this pixel was written in its colour.
        const index = batch.pixels.findLastIndex((q) => q.x === p.x && q.y === p.y && q.color === p.color);
        const lost = (reason: LossReason) => {
          kept = false;
          result.lost.push({ ...p, seq: placement.seq, stored: color, reason });
        };
        if (index < 0) lost("missing-from-batch");
        else if (color !== p.color && !laterThan(lastWrites.get(positionKey(p)), placement.seq, index)) lost("not-on-canvas");
      }
      if (kept) result.verifiedPlacements++;
    }
    for (const key of ackedBatches) {
      for (const p of this.history.get(key)?.pixels ?? []) if (!this.sent.has(pixelKey(p))) result.unexplainedPixels++;
    }
    return result;
  }

  /** For each position, the last (seq, index in batch) the stored history of `epoch` wrote there. */
  private lastWrites(epoch: bigint): Map<number, { seq: bigint; index: number }> {
    const last = new Map<number, { seq: bigint; index: number }>();
    for (const [key, batch] of this.history) {
      const [batchEpoch, rawSeq] = key.split(":");
      if (BigInt(batchEpoch as string) !== epoch) continue;
      const seq = BigInt(rawSeq as string);
      batch.pixels.forEach((p, index) => {
        const k = positionKey(p);
        const prev = last.get(k);
        if (!prev || laterThan({ seq, index }, prev.seq, prev.index)) last.set(k, { seq, index });
      });
    }
    return last;
  }
}

/** True when write `w` came after (seq, index) in the stored order. */
function laterThan(w: { seq: bigint; index: number } | undefined, seq: bigint, index: number): boolean {
  return w !== undefined && (w.seq > seq || (w.seq === seq && w.index > index));
}

function colorAt(stored: StoredCanvas, p: LedgerPixel): number {
  const i = (p.y * stored.width + p.x) * 3;
  return ((stored.pixels[i] ?? 0) << 16) | ((stored.pixels[i + 1] ?? 0) << 8) | (stored.pixels[i + 2] ?? 0);
}

function positionKey(p: LedgerPixel): number {
  return p.y * 65536 + p.x;
}

function pixelKey(p: LedgerPixel): string {
  return `${p.x},${p.y},${p.color}`;
}
