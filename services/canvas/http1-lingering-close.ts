import type { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";

/** A plain Node request handler, as `http.createServer` takes. */
type Http1RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Most of a request body read and dropped after its answer before the connection closes anyway:
 * the 1 MiB body limit with room to spare, so a client that sent a body somewhat too big gets its
 * answer, and one that uploads on and on is cut off as before.
 */
export const LINGER_MAX_BYTES = 4 * 1024 * 1024;
/** Longest wait for the rest of a request body after its answer before the connection closes anyway. */
export const LINGER_MAX_MS = 5_000;

/**
 * Wraps an HTTP/1.1 handler so that a connection closed after an answer given before the request
 * body was read (a lingering close, RFC 9112 §9.6) is closed only once the rest of that body has
 * been read and dropped, up to `LINGER_MAX_BYTES` or `LINGER_MAX_MS`; beyond either it closes as
 * Node does. Nothing is buffered: every chunk is discarded as it arrives.
 *
 * Why: connect-node answers some requests without reading their body: one whose Content-Length is
 * above `readMaxBytes` (429 resource_exhausted), a bidirectional WritePixels over HTTP/1.1 (505, with
 * `Connection: close`). When that answer closes the connection (connect's 505, or any answer to a
 * client that sent `Connection: close`), Node's server half-closes the socket after the answer and destroys it as
 * soon as the answer is flushed (`socket.destroySoon()`), with the rest of the upload unread or still
 * on its way. The kernel answers that rest with a reset, and a client that is still uploading and
 * has not read its answer yet (fetch under CPU load) gets EPIPE/ECONNRESET and loses the answer:
 * the fuzz suite's "no HTTP answer (fetch failed)". Here the answer and the FIN still go out at
 * once (a full-duplex client waiting for the end of the answer is unblocked as connect intends), but
 * the socket stays open for reading until the body has arrived. On a kept-alive connection Node
 * reads the rest of the body itself, before the next request; nothing changes there.
 * HTTP/2 streams have their own drain (unread-request-drain.ts).
 */
export function closeAfterDrainingUnreadRequest(handler: Http1RequestHandler): Http1RequestHandler {
  return (req, res) => {
    const end = res.end;
    res.end = function endAfterArrangingDrain(this: ServerResponse, ...args: unknown[]) {
      res.end = end;
      const socket = res.socket;
      // A response queued behind a pipelined one has no socket yet; its request was read whole.
      if (!req.complete && !req.destroyed && socket !== null && !socket.destroyed) arrangeLingeringClose(req, res, socket);
      return Reflect.apply(end, this, args) as ServerResponse;
    } as ServerResponse["end"];
    handler(req, res);
  };
}

/**
 * Reads and drops `req`'s body from now on, and replaces, for this response only, the
 * `socket.destroySoon()` with which Node's server closes a connection after a response that ends it
 * by a lingering close. On a kept-alive connection destroySoon is not called and the body is read
 * as Node's own `req._dump()` would have (which this resume takes the place of).
 */
function arrangeLingeringClose(req: IncomingMessage, res: ServerResponse, socket: Socket): void {
  let dropped = 0;
  let closeNow: (() => void) | undefined;
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_MAX_BYTES) closeNow?.();
  });
  req.resume();
  // Node's server handles the finish of the response (and calls destroySoon) before these listeners run.
  const restore = () => {
    if (Object.hasOwn(socket, "destroySoon")) delete (socket as { destroySoon?: unknown }).destroySoon;
  };
  res.once("finish", restore);
  res.once("close", restore);
  socket.destroySoon = function lingeringClose(this: Socket) {
    restore();
    // The answer is out (or queued before the FIN): the client reads it and then end-of-stream.
    this.end();
    let timer: NodeJS.Timeout | undefined;
    const stopWaiting = () => {
      clearTimeout(timer);
      req.off("end", close);
      this.off("close", stopWaiting);
      closeNow = undefined;
    };
    const close = () => {
      stopWaiting();
      // As Node would have: destroy once the answer and the FIN are flushed.
      Socket.prototype.destroySoon.call(this);
    };
    if (req.complete || dropped > LINGER_MAX_BYTES) return close();
    closeNow = close;
    timer = setTimeout(close, LINGER_MAX_MS);
    req.once("end", close);
    // The client closed or reset first: nothing left to wait for.
    this.once("close", stopWaiting);
  };
}
