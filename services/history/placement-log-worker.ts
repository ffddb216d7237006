import { parentPort, workerData } from "node:worker_threads";
import { openPglitePlacementLog } from "./pglite-placement-log.js";
import type { PlacementLog } from "./placement-log.js";
import type { WorkerReply, WorkerRequest } from "./worker-placement-log.js";

/**
 * Worker-thread entry of the embedded placement log: PGlite runs PostgreSQL in WebAssembly on the
 * thread that calls it, starting up for seconds and running each query synchronously, so it lives
 * here, off the thread that serves the web app, /api and /ws (worker-placement-log.ts is the other end).
 */
const port = parentPort;
if (port === null) throw new Error("placement-log-worker.js runs as a worker thread");
const post = (reply: WorkerReply) => port.postMessage(reply);
let log: PlacementLog;
try {
  log = await openPglitePlacementLog((workerData as { dataDir: string | undefined }).dataDir);
  post({ kind: "ready" });
} catch (err) {
  post({ kind: "failed", message: (err as Error).message });
  process.exit(1);
}
port.on("message", (request: WorkerRequest) => {
  const method = log[request.method] as (...args: unknown[]) => Promise<unknown>;
  method.apply(log, request.args).then(
    (value) => post({ kind: "result", id: request.id, value }),
    (err: Error) => post({ kind: "error", id: request.id, name: err.name, message: err.message }),
  );
});
