import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/** A request handler of Node's HTTP/2 compatibility API, as `http2.createServer` takes. */
export type Http2RequestHandler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

/**
 * Wraps an HTTP/2 handler so that whatever is left of a request body once the response has been
 * written is read and dropped, and the stream can end on both sides.
 *
 * Why: connect-node answers some requests without reading their whole body (a body above
 * `readMaxBytes`, an envelope it refuses). Left unread, the stream stays open half-closed: flow
 * control stalls the client's upload and the client keeps the unsent rest queued. Node's client
 * counts that queue against its session memory (`maxSessionMemory`, 10 MiB) and does not give it
 * back when it cancels the stalled stream, so after about ten such answers on one session it
 * refuses every new stream with ENHANCE_YOUR_CALM, although each call was answered; the server
 * meanwhile holds a stream per such call. A RST_STREAM with NO_ERROR (RFC 9113 §8.1) frees the
 * server's side but not that client's memory; draining lets the upload finish, which frees both.
 * A client can keep a stream open by uploading forever with or without this; it only moves bytes.
 */
export function drainUnreadRequestAfterResponse(handler: Http2RequestHandler): Http2RequestHandler {
  return (req, res) => {
    req.stream.once("finish", () => {
      if (req.complete) return;
      // Read the stream itself: the compatibility layer pauses it whenever the request object,
      // which connect-node has stopped reading, is full, and would stall the drain.
      req.stream.removeAllListeners("data");
      req.stream.on("data", () => undefined);
      req.stream.resume();
    });
    handler(req, res);
  };
}
