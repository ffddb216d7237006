/** ws's WebSocket.OPEN. */
export const SOCKET_OPEN = 1;

/**
 * The slice of a socket a connection uses: the transport implements it over ws
 * (transport/ws-client-socket.ts), tests pass a fake.
 */
export interface ClientSocket {
  readonly readyState: number;
  /**
   * What the frames handed to send() and not yet passed to the kernel cost in memory: their bytes
   * plus a per-frame overhead, since each small queued frame costs far more than its payload.
   */
  readonly queuedBytes: number;
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Destroys the socket without a close handshake. */
  terminate(): void;
  /**
   * Stops reading the client's frames until queuedBytes is at most `resumeAtBytes`; calls `stalled`
   * if that has not happened within `withinMs`. Does nothing while reading is already paused.
   */
  pauseReading(resumeAtBytes: number, withinMs: number, stalled: () => void): void;
}
