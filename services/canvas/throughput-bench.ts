/**
 * Measures how many pixels per second the Redis canvas store persists and publishes, through the
 * same code path as SetPixels (encode, one Lua script per batch, PUBLISH), and confirms every
 * batch was heard on Pub/Sub. Prints one JSON line. Point it only at a Redis of your own:
 *
 *   REDIS_URL=redis://127.0.0.1:7000 node dist/services/canvas/throughput-bench.js [batches] [pixelsPerBatch] [concurrency] [canvasSide]
 */
import { Redis } from "ioredis";
import { createLogger } from "../shared/logger.js";
import { canvasKeys } from "../shared/redis-keys.js";
import { RedisCanvasStore } from "./redis-canvas-store.js";

/** Canvas used by the benchmark, so it never touches a real one. */
export const BENCH_CANVAS_ID = "bench-throughput";

async function main(): Promise<void> {
  const log = createLogger("canvas-bench");
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error("set REDIS_URL to a Redis you own");
  const [batches = 2_000, perBatch = 1_000, concurrency = 4, side = 1024] = process.argv.slice(2).map(Number);
  const store = new RedisCanvasStore({ redis: redisUrl, width: side, height: side, logger: log });
  const sub = new Redis(redisUrl);
  let heard = 0;
  // Epoch markers (from the resets) are tiny; count only the benchmark's batches.
  sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
    if (message.length > perBatch) heard++;
  });
  await sub.subscribe(canvasKeys(BENCH_CANVAS_ID).channel);
  while (!store.isReady()) await new Promise((r) => setTimeout(r, 20));
  await store.reset(BENCH_CANVAS_ID);

  // Pseudo-random pixels spread over the canvas, so writes are not contiguous.
  const pixels = Array.from({ length: perBatch }, (_, i) => ({ x: (i * 7919) % side, y: (i * 104_729) % side, color: (i * 2_654_435_761) % 0x1000000 }));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches) {
        next++;
        await store.setPixels(BENCH_CANVAS_ID, pixels, "bench");
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const deadline = Date.now() + 5_000;
  while (heard < batches && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const result = { batches, pixelsPerBatch: perBatch, concurrency, canvas: `${side}x${side}`, seconds: Number(seconds.toFixed(3)), pixelsPerSecond: Math.round((batches * perBatch) / seconds), batchesPublishedAndHeard: heard };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await store.reset(BENCH_CANVAS_ID);
  await store.close();
  sub.disconnect();
}

main().catch((err: unknown) => {
  createLogger("canvas-bench").fatal({ err }, "benchmark failed");
  process.exit(1);
});
