import { LatencyHistogram } from "../latency-histogram.js";
import type { Method } from "./bench-client.js";
import { now } from "./clock.js";
import { Control, RING_MASK, type SharedState } from "./shared-state.js";

/**
 * What one worker thread counts while its clients read: the latency histogram,
 * frames, pixels, and per-steady-reader receipts of the current phase. One
 * instance per thread; recording allocates nothing.
 *
 * Which deliveries are timed depends on the method: `outsider` times every delivery at
 * every reader (the writer's own echo too) of a pixel sent in the current phase; `scanner`
 * times every delivery to a client other than the writer, whatever phase it was sent in.
 */
export class ReaderStats {
  /** Place sent -> pixel received by another client, in microseconds. */
  readonly latency = LatencyHistogram.create();
  /** Place sent -> Ack received by the writer, in microseconds (ours only). */
  readonly ackLatency = LatencyHistogram.create();
  /** Socket open -> ready (Welcome for ours, open for legacy), in microseconds. */
  readonly connectLatency = LatencyHistogram.create();
  frames = 0;
  /** Frames decoded in full by the generated code (or JSON.parse for legacy); the rest were scanned in place. */
  decodedFrames = 0;
  bytes = 0;
  pixels = 0;
  /** Colours that matched no pixel we sent (someone else's, or too old). */
  unknownPixels = 0;
  seqGaps = 0;
  seqDuplicates = 0;
  resyncs = 0;
  errorsByCode: Record<string, number> = {};
  unexpectedCloses = 0;
  /** Pixels received in the current phase, by local steady reader index. */
  received: Int32Array;
  phase = 0;
  /** Steady deliveries since the last flush; published to the shared counter once per frame, not per pixel. */
  private pendingDelivered = 0;

  constructor(private readonly shared: SharedState, steadyReaders: number, private readonly method: Method) {
    this.received = new Int32Array(steadyReaders);
  }

  /** Records one received pixel colour for a reader (steadyIndex -1 for a churning client). */
  pixel(color: number, reader: number, steadyIndex: number, at: number): void {
    this.pixels++;
    const slot = color & RING_MASK;
    const s = this.shared;
    if (s.slotId[slot] !== color) {
      this.unknownPixels++;
      return;
    }
    const thisPhase = s.phaseOf[slot] === this.phase;
    if (this.method === "outsider" ? thisPhase : s.writerOf[slot] !== reader) this.latency.record((at - s.sendTime[slot]!) * 1000);
    if (steadyIndex >= 0 && thisPhase) {
      this.received[steadyIndex]!++;
      this.pendingDelivered++;
    }
  }

  /** Publishes this frame's steady deliveries to the shared drain counter (one atomic per frame). */
  endFrame(): void {
    if (this.pendingDelivered === 0) return;
    Atomics.add(this.shared.control, Control.Delivered, this.pendingDelivered);
    this.pendingDelivered = 0;
  }

  /** Records an Ack for the pixel id the writer used as client_seq. */
  ack(id: number): void {
    const slot = id & RING_MASK;
    if (this.shared.slotId[slot] !== id) return;
    this.ackLatency.record((now() - this.shared.sendTime[slot]!) * 1000);
    if (this.shared.phaseOf[slot] === this.phase) Atomics.add(this.shared.control, Control.Acked, 1);
  }

  /** Counts a refused pixel (an Error naming a Place) and an error by code. */
  error(code: string, refusedPixels: number): void {
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    if (refusedPixels > 0) Atomics.add(this.shared.control, Control.Rejected, refusedPixels);
  }

  /** Clears everything measured (between phases). */
  reset(phase: number): void {
    this.phase = phase;
    this.latency.reset();
    this.ackLatency.reset();
    this.frames = 0;
    this.decodedFrames = 0;
    this.bytes = 0;
    this.pixels = 0;
    this.unknownPixels = 0;
    this.seqGaps = 0;
    this.seqDuplicates = 0;
    this.resyncs = 0;
    this.errorsByCode = {};
    this.unexpectedCloses = 0;
    this.received.fill(0);
    this.pendingDelivered = 0;
  }
}
