import * as metrics from "../gateway-metrics.js";
import type { ClientSocket } from "./client-socket.js";

/** The memory bounds of one socket's queue (see gateway-tuning.ts). */
export interface OutboxBounds {
  /** Queued bytes after which a socket stops getting batches. */
  slowConsumerBytes: number;
  /** Hard cap on queued bytes, for every frame. */
  sendBufferMaxBytes: number;
  /** A socket whose reads were paused and whose queue did not drain within this long overflows. */
  stalledSocketCloseMs: number;
}

/** Why an outbox gave up on its socket: a frame would pass the cap, or the queue stopped draining. */
export type OverflowReason = "send_buffer_full" | "not_reading";

/**
 * Writes a connection's frames to its socket within bounded memory. A frame that would take the
 * queue past the hard cap is not written. A queue past midway between the slow-consumer bound and
 * the cap pauses reading the client (each frame it sends may cost a reply) until the queue is back
 * at the slow-consumer bound; not back within stalledSocketCloseMs, the socket overflows. (Since
 * protocol 2 a Welcome carries no pixels, so no frame needs an allowance above these bounds.)
 */
export class Outbox {
  constructor(
    private readonly socket: ClientSocket,
    private readonly bounds: OutboxBounds,
    private readonly overflow: (reason: OverflowReason, queuedBytes: number) => void,
  ) {}

  /** Writes `frame` and returns true, or returns false and overflows when it would pass the cap. */
  write(frame: Uint8Array): boolean {
    const { slowConsumerBytes, sendBufferMaxBytes, stalledSocketCloseMs } = this.bounds;
    if (this.socket.queuedBytes + frame.length > sendBufferMaxBytes) {
      metrics.sendBufferFullSkips.inc();
      this.overflow("send_buffer_full", this.socket.queuedBytes);
      return false;
    }
    this.socket.send(frame);
    if (this.socket.queuedBytes > (slowConsumerBytes + sendBufferMaxBytes) / 2) {
      this.socket.pauseReading(slowConsumerBytes, stalledSocketCloseMs, () => this.overflow("not_reading", this.socket.queuedBytes));
    }
    return true;
  }
}
