import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createHash, randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { CanvasService, PixelSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { readProc, round } from "../proc-stats.js";
import type { Scenario } from "./scenario.js";

const defaults = {
  /** The canvas created, side in pixels. */
  side: 8192,
  /** Painted tiles after each step (cumulative), comma-separated. */
  steps: "1,16,256",
  /** Pixels painted in each newly painted tile. */
  "pixels-per-tile": 64,
};

const MIB = 1024 * 1024;
const CANVAS_ID = "huge";
/** The bearer token the run's ADMIN_TOKENS entry names; random per run, known only to this process. */
const ADMIN_TOKEN = randomBytes(16).toString("hex");

/**
 * Issue 9's big-canvas goal: creates an 8192 x 8192 canvas with CreateCanvas, paints 1, 16, 256
 * tiles, and after each step reports Redis used_memory and key count and the canvas service's RSS,
 * to show they grow with the painted tiles and not with the area (a dense copy would be 192 MiB).
 */
export const bigCanvas: Scenario<typeof defaults> = {
  name: "big-canvas",
  description: "CreateCanvas 8192x8192, paint 1/16/256 tiles: Redis used_memory, keys and canvas RSS after each",
  defaults,
  // No placement budget on the big canvas: one caller paints every tile in a burst.
  serverEnv: () => ({ ADMIN_TOKENS: `bench:${createHash("sha256").update(ADMIN_TOKEN).digest("hex")}`, CANVAS_BUDGETS: `${CANVAS_ID}:off` }),
  async run(ctx) {
    const f = ctx.flags;
    const canvasUrl = ctx.system.canvasUrls[0];
    if (canvasUrl === undefined) throw new Error("big-canvas needs --target ours");
    const client = createClient(CanvasService, createGrpcTransport({ baseUrl: canvasUrl }));
    const redis = new Redis(ctx.system.redisUrl);
    const canvasProc = ctx.processes.find((p) => p.role.startsWith("canvas-"))!;
    const columns = Math.ceil(f.side / TILE_SIZE);
    const rows: Array<{ paintedTiles: number; redisUsedMiB: number; redisKeys: number; canvasRssMiB: number }> = [];
    const measure = async (paintedTiles: number) => {
      const info = await redis.info("memory");
      const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
      rows.push({ paintedTiles, redisUsedMiB: round(used / MIB, 2), redisKeys: await redis.dbsize(), canvasRssMiB: round((readProc(canvasProc.pid)?.rssBytes ?? 0) / MIB, 1) });
      ctx.log(`painted tiles ${paintedTiles}: ${JSON.stringify(rows.at(-1))}`);
    };
    try {
      await measure(0);
      const created = await client.createCanvas({ name: CANVAS_ID, width: f.side, height: f.side }, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      if (!created.created) throw new Error(`CreateCanvas ${CANVAS_ID} did not create it`);
      await measure(0);
      let painted = 0;
      for (const target of f.steps.split(",").map(Number)) {
        for (; painted < target; painted++) {
          // Tiles spread over the grid from the far corner backwards, so the corner is among the first.
          const tile = columns * columns - 1 - ((painted * 37) % (columns * columns));
          const tx = tile % columns;
          const ty = Math.floor(tile / columns);
          const pixels = Array.from({ length: f["pixels-per-tile"] }, (_, i) => create(PixelSchema, { x: tx * TILE_SIZE + ((i * 13) % TILE_SIZE), y: ty * TILE_SIZE + ((i * 7) % TILE_SIZE), color: 0xe63946 }));
          await client.setPixels({ canvasId: CANVAS_ID, pixels, author: "big-canvas" });
        }
        await measure(painted);
      }
    } finally {
      redis.disconnect();
    }
    const last = rows.at(-1)!;
    const empty = rows[1]!;
    return {
      phases: [],
      headline: {
        side: f.side,
        redisUsedMiBEmpty: empty.redisUsedMiB,
        redisUsedMiBLast: last.redisUsedMiB,
        redisKeysLast: last.redisKeys,
        canvasRssMiBEmpty: empty.canvasRssMiB,
        canvasRssMiBLast: last.canvasRssMiB,
        paintedTilesLast: last.paintedTiles,
        redisKiBPerPaintedTile: round(((last.redisUsedMiB - empty.redisUsedMiB) * 1024) / Math.max(1, last.paintedTiles), 1),
      },
      notes: [
        `a dense RGB copy of ${f.side}x${f.side} would be ${round((f.side * f.side * 3) / MIB, 0)} MiB; a raw 256x256 tile is 192 KiB`,
        `each step paints ${f["pixels-per-tile"]} pixels in each newly painted tile (one SetPixels per tile on the canvas service's internal gRPC port)`,
        ...rows.map((r, i) => `${i === 0 ? "before CreateCanvas" : `${r.paintedTiles} painted tile(s)`}: Redis used_memory ${r.redisUsedMiB} MiB, ${r.redisKeys} keys; canvas service RSS ${r.canvasRssMiB} MiB`),
      ],
    };
  },
};
