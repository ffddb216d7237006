/**
 * Memory every load-generator thread shares: a ring of send records indexed by the
 * pixel id that the writer encodes in the pixel's colour, so any reader thread can
 * find when (and by whom) a pixel it received was sent, in O(1) and without allocating.
 */

/** log2 of the ring size: 1 Mi slots, far more than pixels in flight at any rate we drive. */
export const RING_BITS = 20;
/** Slots in the send ring. */
export const RING_SIZE = 1 << RING_BITS;
/** Mask from a pixel id to its slot. */
export const RING_MASK = RING_SIZE - 1;
/** Pixel ids live in the 24 bits of a colour; id 0 is never used. */
export const ID_MASK = 0xffffff;

/** Indices into the shared control counters. */
export const Control = {
  /** Last pixel id handed out. */
  LastId: 0,
  /** Pixels steady readers received in the current phase (for the drain wait). */
  Delivered: 1,
  /** Pixels of the current phase the system refused (Error frames to the writer). */
  Rejected: 2,
  /** Pixels sent in the current phase. */
  Sent: 3,
  /** Places of the current phase acknowledged to their writer (ours only). */
  Acked: 4,
  Count: 5,
} as const;

/** The raw buffers, posted to every worker thread. */
export interface SharedBuffers {
  control: SharedArrayBuffer;
  sendTime: SharedArrayBuffer;
  slotId: SharedArrayBuffer;
  writerOf: SharedArrayBuffer;
  phaseOf: SharedArrayBuffer;
}

/** Typed views over the shared buffers. */
export class SharedState {
  readonly control: Int32Array;
  /** Send time (shared clock, ms) per slot. */
  readonly sendTime: Float64Array;
  /** The pixel id occupying each slot, to reject stale or foreign colours. */
  readonly slotId: Int32Array;
  /** The global client index that sent each slot's pixel. */
  readonly writerOf: Int32Array;
  /** The phase each slot's pixel was sent in. */
  readonly phaseOf: Int32Array;

  constructor(readonly buffers: SharedBuffers) {
    this.control = new Int32Array(buffers.control);
    this.sendTime = new Float64Array(buffers.sendTime);
    this.slotId = new Int32Array(buffers.slotId);
    this.writerOf = new Int32Array(buffers.writerOf);
    this.phaseOf = new Int32Array(buffers.phaseOf);
  }

  /** Allocates the buffers (in the main thread). */
  static create(): SharedState {
    return new SharedState({
      control: new SharedArrayBuffer(4 * Control.Count),
      sendTime: new SharedArrayBuffer(8 * RING_SIZE),
      slotId: new SharedArrayBuffer(4 * RING_SIZE),
      writerOf: new SharedArrayBuffer(4 * RING_SIZE),
      phaseOf: new SharedArrayBuffer(4 * RING_SIZE),
    });
  }

  /** Hands out the next pixel id (1..2^24-1, wrapping) and records who sends it, when and in which phase. */
  claim(writer: number, phase: number, time: number): number {
    let id = (Atomics.add(this.control, Control.LastId, 1) + 1) & ID_MASK;
    if (id === 0) id = (Atomics.add(this.control, Control.LastId, 1) + 1) & ID_MASK;
    const slot = id & RING_MASK;
    this.writerOf[slot] = writer;
    this.phaseOf[slot] = phase;
    this.sendTime[slot] = time;
    this.slotId[slot] = id;
    Atomics.add(this.control, Control.Sent, 1);
    return id;
  }

  /** Resets the per-phase counters (main thread, between phases). */
  resetPhase(): void {
    Atomics.store(this.control, Control.Delivered, 0);
    Atomics.store(this.control, Control.Rejected, 0);
    Atomics.store(this.control, Control.Sent, 0);
    Atomics.store(this.control, Control.Acked, 0);
  }
}
