import { acksElement } from "../../../protocol/server-frames.js";

/**
 * A connection's acknowledgements waiting for its room's next fan-out flush (protocol 3), kept as
 * encoded `ServerFrame.acks` elements: appended to the connection's frame of batches, or sent
 * alone, they carry every Place stored since its last frame. Bounded by the Places in flight,
 * which the write queue bounds, and emptied at every flush.
 */
export class PendingAcks {
  private parts: Buffer[] = [];
  private bytes = 0;

  /** Acks waiting. */
  get count(): number {
    return this.parts.length;
  }

  /** Records that the Place `clientSeq` was stored in batch `seq`. */
  add(clientSeq: number, seq: bigint): void {
    const part = acksElement(clientSeq, seq);
    this.parts.push(part);
    this.bytes += part.length;
  }

  /** `frame` with every waiting ack appended (the frame itself when none wait); empties the buffer. */
  appendTo(frame: Buffer): Buffer {
    if (this.parts.length === 0) return frame;
    const out = Buffer.concat([frame, ...this.parts], frame.length + this.bytes);
    this.clear();
    return out;
  }

  /** The waiting acks as one frame holding only them, or undefined when none wait; empties the buffer. */
  takeFrame(): Buffer | undefined {
    if (this.parts.length === 0) return undefined;
    const out = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
    this.clear();
    return out;
  }

  private clear(): void {
    this.parts = [];
    this.bytes = 0;
  }
}
