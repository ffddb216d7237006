import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { LogIncompleteError, LogUnavailableError, type PlacementLog } from "./placement-log.js";

/** A call from the main thread to the worker's PlacementLog. */
export interface WorkerRequest {
  id: number;
  method: keyof PlacementLog;
  args: unknown[];
}

/** The worker's messages: opened (or not), and each call's result or error. */
export type WorkerReply =
  | { kind: "ready" }
  | { kind: "failed"; message: string }
  | { kind: "result"; id: number; value: unknown }
  | { kind: "error"; id: number; name: string; message: string };

/** The worker entry: next to this file in dist/, or dist/'s copy when running from the TypeScript sources (tests). */
function workerEntry(): string {
  const sibling = fileURLToPath(new URL("./placement-log-worker.js", import.meta.url));
  if (existsSync(sibling)) return sibling;
  const built = fileURLToPath(new URL("../../dist/services/history/placement-log-worker.js", import.meta.url));
  if (existsSync(built)) return built;
  throw new Error("placement-log-worker.js not found: run npm run build:services");
}

/** Rebuilds an error thrown in the worker as the class callers map to status codes. */
function rebuild(name: string, message: string): Error {
  if (name === "LogIncompleteError") return new LogIncompleteError(message);
  if (name === "RangeError") return new RangeError(message);
  return new LogUnavailableError(message);
}

/**
 * Opens the PGlite placement log in a worker thread (placement-log-worker.ts) and returns a
 * PlacementLog that forwards every call to it, so PGlite's start-up and queries never block the
 * process's event loop. Rejects when the database cannot be opened; calls fail with
 * LogUnavailableError if the worker dies.
 */
export function openPgliteInWorker(dataDir: string | undefined): Promise<PlacementLog> {
  return startPgliteWorker(dataDir).log;
}

/**
 * openPgliteInWorker with a way out while it opens: `terminate` stops the worker at once (a new
 * database is only renamed into place once complete, so this never leaves a broken one).
 */
export function startPgliteWorker(dataDir: string | undefined): { log: Promise<PlacementLog>; terminate(): Promise<void> } {
  const worker = new Worker(workerEntry(), { workerData: { dataDir } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  let dead: Error | undefined;
  const call = (method: keyof PlacementLog, args: unknown[]): Promise<unknown> => {
    if (dead) return Promise.reject(dead);
    const id = next++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args } satisfies WorkerRequest);
    });
  };
  const log: PlacementLog = {
    append: (...a) => call("append", a) as ReturnType<PlacementLog["append"]>,
    recordGap: (...a) => call("recordGap", a) as ReturnType<PlacementLog["recordGap"]>,
    recordEpoch: (...a) => call("recordEpoch", a) as ReturnType<PlacementLog["recordEpoch"]>,
    lastArchived: (...a) => call("lastArchived", a) as ReturnType<PlacementLog["lastArchived"]>,
    archivedSeq: (...a) => call("archivedSeq", a) as ReturnType<PlacementLog["archivedSeq"]>,
    lookupPixel: (...a) => call("lookupPixel", a) as ReturnType<PlacementLog["lookupPixel"]>,
    batches: (...a) => call("batches", a) as ReturnType<PlacementLog["batches"]>,
    seqAtTime: (...a) => call("seqAtTime", a) as ReturnType<PlacementLog["seqAtTime"]>,
    regionAt: (...a) => call("regionAt", a) as ReturnType<PlacementLog["regionAt"]>,
    rollbackPlan: (...a) => call("rollbackPlan", a) as ReturnType<PlacementLog["rollbackPlan"]>,
    recordModeration: (...a) => call("recordModeration", a) as ReturnType<PlacementLog["recordModeration"]>,
    listModeration: (...a) => call("listModeration", a) as ReturnType<PlacementLog["listModeration"]>,
    sizeOnDisk: (...a) => call("sizeOnDisk", a) as ReturnType<PlacementLog["sizeOnDisk"]>,
    async close() {
      if (dead) return;
      await call("close", []);
      await worker.terminate();
    },
  };
  const opened = new Promise<PlacementLog>((resolve, reject) => {
    worker.on("message", (reply: WorkerReply) => {
      switch (reply.kind) {
        case "ready":
          return resolve(log);
        case "failed":
          return reject(new Error(reply.message));
        case "result":
        case "error": {
          const waiter = pending.get(reply.id);
          pending.delete(reply.id);
          if (reply.kind === "result") waiter?.resolve(reply.value);
          else waiter?.reject(rebuild(reply.name, reply.message));
          return;
        }
        default: {
          const unknown: never = reply;
          throw new Error(`unknown worker reply ${JSON.stringify(unknown)}`);
        }
      }
    });
    worker.on("error", (err) => reject(err));
    worker.on("exit", (code) => {
      dead = new LogUnavailableError(`the placement log worker exited (code ${code})`);
      for (const waiter of pending.values()) waiter.reject(dead);
      pending.clear();
      reject(dead);
    });
  });
  return { log: opened, terminate: async () => void (await worker.terminate()) };
}
