/** A canvas copy to compare: whose it is and its row-major RGB bytes at (seq, epoch). */
export interface CanvasCopy {
  name: string;
  seq: bigint;
  epoch: bigint;
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** How a set of copies differs from the reference (storage). */
export interface DivergenceReport {
  /** Copies compared, the reference included. */
  copies: number;
  /** Distinct pixel positions where at least one copy differs from the reference: must be 0. */
  divergentPixels: number;
  /** Copies that differ from the reference in any byte, seq, epoch or size. */
  divergentCopies: Array<{ name: string; pixels: number; seq: string; epoch: string }>;
  /** True when every copy equals the reference byte for byte, at the same seq and epoch. */
  identical: boolean;
}

/**
 * Compares every copy with the reference byte for byte, and reports the positions that
 * differ. Copies are compared at whatever seq they stand at, so call this after quiescence.
 */
export function compareCanvases(reference: CanvasCopy, copies: readonly CanvasCopy[]): DivergenceReport {
  const positions = new Set<number>();
  const divergentCopies: DivergenceReport["divergentCopies"] = [];
  for (const copy of copies) {
    let differing = 0;
    const sameShape = copy.width === reference.width && copy.height === reference.height && copy.pixels.length === reference.pixels.length;
    if (sameShape) {
      for (let i = 0; i < reference.pixels.length; i += 3) {
        if (copy.pixels[i] !== reference.pixels[i] || copy.pixels[i + 1] !== reference.pixels[i + 1] || copy.pixels[i + 2] !== reference.pixels[i + 2]) {
          differing++;
          positions.add(i / 3);
        }
      }
    } else {
      differing = reference.width * reference.height;
      for (let i = 0; i < differing; i++) positions.add(i);
    }
    if (differing > 0 || copy.seq !== reference.seq || copy.epoch !== reference.epoch) {
      divergentCopies.push({ name: copy.name, pixels: differing, seq: String(copy.seq), epoch: String(copy.epoch) });
    }
  }
  return { copies: copies.length + 1, divergentPixels: positions.size, divergentCopies, identical: divergentCopies.length === 0 };
}
