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

/** One acknowledged pixel that storage does not hold and that no later write explains. */
export interface LostPixel extends LedgerPixel {
  /** The seq its Ack named. */
  seq: bigint;
  /** The colour storage holds there instead. */
  stored: number;
}

/** The result of checking every acknowledged pixel against storage. */
export interface LedgerCheck {
  /** Acknowledged placements recorded. */
  ackedPlacements: number;
  /** Acknowledged pixels recorded. */
  ackedPixels: number;
  /** Acknowledged pixels storage holds, or that a later (or same-batch) write legitimately replaced. */
  accountedPixels: number;
  /** Acknowledged pixels lost: must be 0. */
  lost: LostPixel[];
  /** Acks whose seq is above the stored seq (storage went back in time): must be 0. */
  acksAheadOfStorage: number;
  /** Acks from another epoch than storage's (history was reset or lost): reported, not checked pixel by pixel. */
  acksFromOtherEpochs: number;
}

interface Write {
  seq: bigint;
  epoch: bigint;
  color: number;
}

/** Everything known to have been written at one position, indexed so a check is O(1). */
interface PositionWrites {
  /** epoch -> highest seq that wrote here. */
  maxSeq: Map<bigint, bigint>;
  /** "epoch:seq" -> colours written here by that batch. */
  colors: Map<string, Set<number>>;
}

/**
 * Records every acknowledged placement (and every batch anyone observed) so that, after a
 * run, each acknowledged pixel can be checked against the stored canvas. A pixel counts as
 * kept when storage holds its colour, or when a write with a higher seq (or another colour in
 * the same merged batch) touched the same place: that write legitimately overwrote it.
 */
export class AckLedger {
  private readonly acked: Array<{ seq: bigint; epoch: bigint; pixels: readonly LedgerPixel[] }> = [];
  /** index (y * 65536 + x) -> what is known to have been written there, acked or observed. */
  private readonly writes = new Map<number, PositionWrites>();
  private readonly observedSeqs = new Set<string>();

  /** Records a placement the gateway acknowledged as stored in batch `seq` of `epoch`. */
  recordAck(seq: bigint, epoch: bigint, pixels: readonly LedgerPixel[]): void {
    this.acked.push({ seq, epoch, pixels });
    for (const p of pixels) this.addWrite(p, { seq, epoch, color: p.color });
  }

  /** Records a batch some client received (each seq is recorded once, whoever saw it). */
  recordBatch(seq: bigint, epoch: bigint, pixels: readonly LedgerPixel[]): void {
    const key = `${epoch}:${seq}`;
    if (this.observedSeqs.has(key)) return;
    this.observedSeqs.add(key);
    for (const p of pixels) this.addWrite(p, { seq, epoch, color: p.color });
  }

  /** Checks every acknowledged pixel against `stored`. */
  check(stored: StoredCanvas): LedgerCheck {
    const result: LedgerCheck = { ackedPlacements: this.acked.length, ackedPixels: 0, accountedPixels: 0, lost: [], acksAheadOfStorage: 0, acksFromOtherEpochs: 0 };
    for (const placement of this.acked) {
      result.ackedPixels += placement.pixels.length;
      if (placement.epoch !== stored.epoch) {
        result.acksFromOtherEpochs++;
        continue;
      }
      if (placement.seq > stored.seq) result.acksAheadOfStorage++;
      for (const p of placement.pixels) {
        const i = (p.y * stored.width + p.x) * 3;
        const color = ((stored.pixels[i] ?? 0) << 16) | ((stored.pixels[i + 1] ?? 0) << 8) | (stored.pixels[i + 2] ?? 0);
        const here = this.writes.get(key(p));
        const sameBatch = here?.colors.get(`${placement.epoch}:${placement.seq}`);
        const overwritten = (here?.maxSeq.get(placement.epoch) ?? -1n) > placement.seq || (sameBatch !== undefined && [...sameBatch].some((c) => c !== p.color));
        if (color === p.color || overwritten) result.accountedPixels++;
        else result.lost.push({ ...p, seq: placement.seq, stored: color });
      }
    }
    return result;
  }

  private addWrite(p: LedgerPixel, w: Write): void {
    const k = key(p);
    let here = this.writes.get(k);
    if (!here) this.writes.set(k, (here = { maxSeq: new Map(), colors: new Map() }));
    if ((here.maxSeq.get(w.epoch) ?? -1n) < w.seq) here.maxSeq.set(w.epoch, w.seq);
    const batch = `${w.epoch}:${w.seq}`;
    let colors = here.colors.get(batch);
    if (!colors) here.colors.set(batch, (colors = new Set()));
    colors.add(w.color);
  }
}

function key(p: LedgerPixel): number {
  return p.y * 65536 + p.x;
}
