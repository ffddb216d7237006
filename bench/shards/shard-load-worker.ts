/**
 * One load process of the shard-scaling benchmark (forked by shard-scaling.ts): writes random
 * batches to its canvases through RedisCanvasStore (the SetPixels path: Lua script, SPUBLISH,
 * WAIT) with `concurrency` writes in flight, for `durationMs`, and reports what was stored.
 */
import { pino } from "pino";
import { RedisCanvasStore } from "../../services/canvas/redis-canvas-store.js";
import type { RedisTarget, WaitPolicy } from "../../services/shared/redis-connection.js";

/** What the parent sends to start a run. */
export interface ShardLoadJob {
  target: RedisTarget;
  wait: WaitPolicy;
  canvases: string[];
  side: number;
  pixelsPerBatch: number;
  concurrency: number;
  durationMs: number;
}

/** What the worker answers when the run is over. */
export interface ShardLoadReport {
  batches: number;
  pixels: number;
  errors: number;
  elapsedMs: number;
}

async function run(job: ShardLoadJob): Promise<ShardLoadReport> {
  const store = new RedisCanvasStore({ redis: job.target, wait: job.wait, width: job.side, height: job.side, logger: pino({ level: "silent" }) });
  while (!store.isReady()) await new Promise((r) => setTimeout(r, 20));
  let batches = 0;
  let pixels = 0;
  let errors = 0;
  let next = 0;
  const started = Date.now();
  const deadline = started + job.durationMs;
  const lane = async () => {
    while (Date.now() < deadline) {
      const canvasId = job.canvases[next++ % job.canvases.length]!;
      const batch = Array.from({ length: job.pixelsPerBatch }, () => ({ x: Math.floor(Math.random() * job.side), y: Math.floor(Math.random() * job.side), color: Math.floor(Math.random() * 0x1000000) }));
      try {
        await store.setPixels(canvasId, batch, "bench");
        batches++;
        pixels += batch.length;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
  const elapsedMs = Date.now() - started;
  await store.close();
  return { batches, pixels, errors, elapsedMs };
}

process.once("message", (job: ShardLoadJob) => {
  run(job).then(
    (report) => process.send?.(report, () => process.exit(0)),
    (err: Error) => {
      process.stderr.write(`shard load worker failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
});
