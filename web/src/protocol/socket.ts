/**
 * The transport seam: CanvasClient talks to a socket through these two small interfaces, so the
 * same client runs on the browser's WebSocket, on the `ws` package in Node, and on a test fake.
 */

/** What the client hears from a socket; the adapter calls these. */
export interface SocketHandlers {
  /** The socket is open and may send. */
  onOpen(): void;
  /** One message arrived: bytes for a binary frame, a string for a text frame. */
  onMessage(data: Uint8Array | string): void;
  /** The socket closed (for any reason, including a failed connect); called at most once. */
  onClose(code: number, reason: string): void;
}

/** What the client may do with a socket. */
export interface SocketHandle {
  /** Sends one binary message; only called after onOpen and before onClose. */
  send(data: Uint8Array): void;
  /** Closes the socket; the adapter still reports onClose afterwards or not at all. */
  close(code?: number, reason?: string): void;
}

/** Opens a socket to `url` that reports to `handlers`. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketHandle;
