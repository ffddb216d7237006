import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decode } from "fast-png";
import { RedisCanvasStore } from "../../services/canvas/redis-canvas-store.js";
import { regionAt } from "../../services/canvas/history/canvas-at.js";
import { encodeRgbPng } from "../../services/canvas/history/history-routes.js";
import { createLogger } from "../../services/shared/logger.js";
import { waitFor } from "../../tools/process/free-port.js";
import { startRedis } from "../../tools/process/redis-server.js";
import { Prng } from "../../tools/prng.js";
import { parseFlags } from "../flags.js";
import { collectRunInfo } from "../run-info.js";

const DEFAULTS = {
  /** Canvas side in pixels. */
  side: 2048,
  /** Pixels painted before exporting (random pixels and colours: a PNG that compresses badly). */
  painted: 1_000_000,
  /** Timed exports, one after another. */
  rounds: 5,
  out: "bench/results",
};

const CANVAS = "bench";

/**
 * `npm run bench -- export`: paints a side x side canvas on a private Redis, then times ExportCanvas
 * of the whole canvas now as the RPC and /api/export run it (a consistent read of the canvas and
 * the PNG encode), `rounds` times, and checks the PNG decodes to the canvas's bytes. Goal: a
 * 2048 x 2048 export in at most 1 s.
 */
export async function runExportBench(argv: string[], log: (m: string) => void): Promise<void> {
  const flags = parseFlags(argv, DEFAULTS);
  const run = await collectRunInfo(["export", ...argv]);
  const logger = createLogger("bench-export");
  logger.level = "warn";
  const redis = await startRedis({ appendfsync: "everysec" });
  const shape = { width: flags.side, height: flags.side };
  const store = new RedisCanvasStore({ redis: redis.url, ...shape, logger, shapeOf: () => shape });
  try {
    await waitFor("store ready", () => store.isReady(), 10_000, 20);
    const random = new Prng(11);
    for (let done = 0; done < flags.painted; done += 10_000) {
      const pixels = Array.from({ length: Math.min(10_000, flags.painted - done) }, () => ({ x: random.int(flags.side), y: random.int(flags.side), color: random.int(0x1000000) }));
      await store.setPixels(CANVAS, pixels, "bench");
    }
    log(`painted ${flags.painted} pixels; exporting ${flags.rounds} times`);
    const canvas = { name: CANVAS, ...shape, background: 0xffffff, createdUnixMs: 0 };
    const rect = { x: 0, y: 0, ...shape };
    const seconds: number[] = [];
    let bytes = 0;
    for (let i = 0; i < flags.rounds; i++) {
      const started = performance.now();
      const region = await regionAt(store, undefined, canvas, rect, {});
      const png = encodeRgbPng(region.pixels, flags.side, flags.side);
      seconds.push((performance.now() - started) / 1000);
      bytes = png.length;
      if (i === 0 && !Buffer.from(decode(png).data).equals(Buffer.from((await store.getCanvas(CANVAS)).pixels))) throw new Error("the exported PNG does not decode to the canvas's bytes");
    }
    const sorted = [...seconds].sort((a, b) => a - b);
    const result = {
      scenario: "export",
      run,
      parameters: flags,
      headline: { exportMedianSeconds: Math.round(sorted[Math.floor(sorted.length / 2)]! * 1000) / 1000, exportMaxSeconds: Math.round(sorted[sorted.length - 1]! * 1000) / 1000, pngBytes: bytes },
      seconds,
      notes: ["Timed: the consistent read (GetCanvas's script) and fast-png's encode, as ExportCanvas without at_seq runs them; the HTTP route adds only the response write."],
    };
    mkdirSync(flags.out, { recursive: true });
    const file = join(flags.out, `export-${run.startedAt.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(`${JSON.stringify(result.headline)}\nwrote ${file}\n`);
  } finally {
    await store.close();
    await redis.stop();
  }
}
