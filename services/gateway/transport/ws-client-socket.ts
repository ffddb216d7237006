import type { WebSocket } from "ws";
import type { ClientSocket } from "../session/client-socket.js";

/**
 * Bytes charged per queued frame on top of its payload. ws.send writes a header and the payload
 * as two writes whose entries, callbacks and header buffers stay in memory until the kernel takes
 * them: measured at about 0.9-1 KB of RSS per small queued frame (Node 20, ws 8.23), so a queue
 * of 12-byte Pongs costs some 80 times its bufferedAmount.
 */
export const QUEUED_FRAME_OVERHEAD_BYTES = 1024;

/**
 * A ws WebSocket as a ClientSocket: counts what its queued frames cost (bytes plus
 * QUEUED_FRAME_OVERHEAD_BYTES each, released when the write reaches the kernel) and pauses
 * the underlying net.Socket on request until that queue drains.
 */
export class WsClientSocket implements ClientSocket {
  private queued = 0;
  /** Set while reads are paused: when to resume, and the timer that gives up on the socket. */
  private held: { resumeAtBytes: number; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly ws: WebSocket) {}

  get readyState(): number {
    return this.ws.readyState;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  send(data: Uint8Array): void {
    const cost = data.length + QUEUED_FRAME_OVERHEAD_BYTES;
    this.queued += cost;
    // Called once the frame reached the kernel, or with an error when the socket was destroyed first.
    this.ws.send(data, () => this.written(cost));
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  pauseReading(resumeAtBytes: number, withinMs: number, stalled: () => void): void {
    if (this.held) return;
    const timer = setTimeout(stalled, withinMs);
    timer.unref();
    this.held = { resumeAtBytes, timer };
    this.ws.pause();
  }

  /** The socket closed: stop watching it. */
  dispose(): void {
    clearTimeout(this.held?.timer);
    this.held = undefined;
  }

  private written(cost: number): void {
    this.queued -= cost;
    if (this.held && this.queued <= this.held.resumeAtBytes) {
      clearTimeout(this.held.timer);
      this.held = undefined;
      this.ws.resume();
    }
  }
}
