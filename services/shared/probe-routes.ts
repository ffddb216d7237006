import type { IncomingMessage, ServerResponse } from "node:http";
import { metricsRegistry } from "./metrics.js";

/**
 * Answers the operational endpoints every service shares: `/healthz` (the process
 * is alive), `/readyz` (it should receive traffic; `ready()` says why not) and
 * `/metrics` (Prometheus). Returns false for any other path.
 */
export function handleProbe(req: IncomingMessage, res: ServerResponse, ready: () => string | undefined): boolean {
  const path = (req.url ?? "/").split("?", 1)[0];
  switch (path) {
    case "/healthz":
      res.writeHead(200, { "content-type": "text/plain", "cache-control": "no-store" }).end("ok\n");
      return true;
    case "/readyz": {
      const reason = ready();
      if (reason === undefined) res.writeHead(200, { "content-type": "text/plain" }).end("ready\n");
      else res.writeHead(503, { "content-type": "text/plain" }).end(`not ready: ${reason}\n`);
      return true;
    }
    case "/metrics":
      metricsRegistry.metrics().then(
        (text) => res.writeHead(200, { "content-type": metricsRegistry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
      return true;
    default:
      return false;
  }
}
