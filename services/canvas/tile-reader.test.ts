import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { OVERVIEW_REFRESH_MS } from "../shared/timing.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { decodeTilePng } from "./tile-codec.js";
import { TileReader } from "./tile-reader.js";

const logger = pino({ level: "silent" });

/** The reference overview: each level averages 2x2 blocks of the one below (those that exist), rounding. */
function halve(pixels: Uint8Array, width: number, height: number): { pixels: Uint8Array; width: number; height: number } {
  const w = Math.ceil(width / 2);
  const h = Math.ceil(height / 2);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (const [i, j] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
          if (2 * x + i < width && 2 * y + j < height) {
            sum += pixels[((2 * y + j) * width + 2 * x + i) * 3 + c]!;
            n++;
          }
        }
        out[(y * w + x) * 3 + c] = Math.round(sum / n);
      }
    }
  }
  return { pixels: out, width: w, height: h };
}

describe("TileReader overviews", () => {
  let store: MemoryCanvasStore;
  afterEach(() => store.close());

  it("builds each level by halving the one below: the top tile equals the whole canvas halved twice", async () => {
    const width = TILE_SIZE * 2 + 90;
    const height = TILE_SIZE * 2 + 1;
    store = new MemoryCanvasStore({ width, height, bus: new MemoryPixelBus(), logger });
    const pixels = Array.from({ length: 3000 }, (_, i) => ({ x: (i * 7919) % width, y: (i * 104_729) % height, color: (i * 2_654_435_761) % 0x1000000 }));
    await store.setPixels("default", pixels, "");
    const reader = new TileReader(store);
    const shape = { width, height };
    const top = await reader.read("default", shape, 2, { tx: 0, ty: 0 });
    const snap = await store.getCanvas("default");
    const expected = halve(halve(snap.pixels, width, height).pixels, Math.ceil(width / 2), Math.ceil(height / 2));
    const decoded = decodeTilePng(top!.png);
    expect([decoded.width, decoded.height]).toEqual([expected.width, expected.height]);
    expect(Buffer.from(decoded.pixels).equals(expected.pixels)).toBe(true);
    expect([top!.seq, top!.version]).toEqual([1, 1]);
    expect(top!.levelCount).toBe(3);
    expect(await reader.read("default", shape, 3, { tx: 0, ty: 0 })).toBeUndefined();
  });

  it("rebuilds a requested overview at most every OVERVIEW_REFRESH_MS, then with every change under it", async () => {
    const width = TILE_SIZE * 4;
    store = new MemoryCanvasStore({ width, height: width, bus: new MemoryPixelBus(), logger });
    let now = 0;
    const reader = new TileReader(store, () => now);
    const shape = { width, height: width };
    const empty = await reader.read("default", shape, 2, { tx: 0, ty: 0 });
    expect(empty!.version).toBe(0);
    expect(decodeTilePng(empty!.png).pixels.every((b) => b === 0xff)).toBe(true);
    // Nothing was built for the empty canvas, so the first paint shows at once.
    const first = await store.setPixels("default", [{ x: 0, y: 0, color: 0 }], "");
    expect((await reader.read("default", shape, 2, { tx: 0, ty: 0 }))!.version).toBe(first.seq);
    now += 1;
    const second = await store.setPixels("default", [{ x: width - 1, y: width - 1, color: 0 }], "");
    const lagging = await reader.read("default", shape, 2, { tx: 0, ty: 0 });
    expect([lagging!.seq, lagging!.version]).toEqual([second.seq, first.seq]);
    now += OVERVIEW_REFRESH_MS;
    const fresh = await reader.read("default", shape, 2, { tx: 0, ty: 0 });
    expect(fresh!.version).toBe(second.seq);
    // The level below was rebuilt exactly (not lagging) as part of it.
    expect((await reader.read("default", shape, 1, { tx: 1, ty: 1 }))!.version).toBe(second.seq);
  });
});
