import { WebSocket } from "ws";
import type { SocketFactory } from "./socket.js";

/**
 * A SocketFactory over the `ws` package, for Node users of CanvasClient (benchmarks, chaos tests).
 * The browser app has its own adapter over the DOM WebSocket.
 */
export const wsSocketFactory: SocketFactory = (url, handlers) => wsSocketFactoryWith({})(url, handlers);

/** wsSocketFactory sending `headers` on every upgrade (a Node client's session: `{ cookie: "pp_session=..." }`). */
export const wsSocketFactoryWith = (headers: Record<string, string>): SocketFactory => (url, handlers) => {
  const ws = new WebSocket(url, { perMessageDeflate: false, headers });
  let closed = false;
  const reportClose = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    handlers.onClose(code, reason);
  };
  ws.binaryType = "nodebuffer";
  ws.on("open", () => handlers.onOpen());
  ws.on("message", (data, isBinary) => {
    if (!isBinary) {
      handlers.onMessage(Buffer.isBuffer(data) ? data.toString("utf8") : "");
      return;
    }
    handlers.onMessage(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : new Uint8Array(data));
  });
  ws.on("close", (code, reason) => reportClose(code, reason.toString("utf8")));
  // Without an 'error' listener ws would crash the process; a failed connect is followed by 'close'.
  ws.on("error", () => undefined);
  return {
    send(data) {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close(code, reason) {
      if (ws.readyState === WebSocket.CONNECTING) {
        // ws throws if close() is called while connecting; terminate aborts the handshake instead.
        ws.terminate();
        return;
      }
      ws.close(code, reason);
    },
  };
};
