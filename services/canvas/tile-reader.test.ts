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

/** A memory store that counts tile reads, to tell cache hits from encodes. */
class CountingStore extends MemoryCanvasStore {
  tileReads = 0;

  override async getTile(...args: Parameters<MemoryCanvasStore["getTile"]>) {
    this.tileReads++;
    return super.getTile(...args);
  }
}

describe("TileReader level 0", () => {
  let store: CountingStore;
  afterEach(() => store.close());
  const width = TILE_SIZE * 2;
  const shape = { width, height: width };

  it("serves a repeated tile from the cache, stamped with the newer seq it is still exact at", async () => {
    store = new CountingStore({ width, height: width, bus: new MemoryPixelBus(), logger });
    const painted = await store.setPixels("default", [{ x: 1, y: 1, color: 0x123456 }], "");
    const reader = new TileReader(store);
    const first = await reader.read("default", shape, 0, { tx: 0, ty: 0 });
    // A batch elsewhere moves the seq but not this tile's version.
    const elsewhere = await store.setPixels("default", [{ x: TILE_SIZE, y: 0, color: 0 }], "");
    const second = await reader.read("default", shape, 0, { tx: 0, ty: 0 });
    expect(store.tileReads).toBe(1);
    expect(second!.png).toBe(first!.png);
    expect([second!.seq, second!.version]).toEqual([elsewhere.seq, painted.seq]);
  });

  it("reads and encodes again once a batch painted the tile", async () => {
    store = new CountingStore({ width, height: width, bus: new MemoryPixelBus(), logger });
    const reader = new TileReader(store);
    await reader.read("default", shape, 0, { tx: 0, ty: 0 });
    const repaint = await store.setPixels("default", [{ x: 2, y: 3, color: 0x00ff00 }], "");
    const fresh = await reader.read("default", shape, 0, { tx: 0, ty: 0 });
    expect(store.tileReads).toBe(2);
    expect([fresh!.seq, fresh!.version]).toEqual([repaint.seq, repaint.seq]);
    expect(Array.from(decodeTilePng(fresh!.png).pixels.subarray((3 * TILE_SIZE + 2) * 3, (3 * TILE_SIZE + 2) * 3 + 3))).toEqual([0, 0xff, 0]);
  });

  it("reads and encodes a tile once for concurrent misses", async () => {
    store = new CountingStore({ width, height: width, bus: new MemoryPixelBus(), logger });
    await store.setPixels("default", [{ x: 5, y: 5, color: 0xff0000 }], "");
    const reader = new TileReader(store);
    const tiles = await Promise.all(Array.from({ length: 10 }, () => reader.read("default", shape, 0, { tx: 0, ty: 0 })));
    expect(store.tileReads).toBe(1);
    expect(new Set(tiles.map((t) => t!.png)).size).toBe(1);
  });

  it("evicts by bytes: with room for one painted tile, alternating two tiles reads each again", async () => {
    store = new CountingStore({ width, height: width, bus: new MemoryPixelBus(), logger });
    await store.setPixels("default", [{ x: 0, y: 0, color: 0xff0000 }, { x: TILE_SIZE + 1, y: 0, color: 0x0000ff }], "");
    const probe = await new TileReader(store).read("default", shape, 0, { tx: 0, ty: 0 });
    store.tileReads = 0;
    const reader = new TileReader(store, undefined, probe!.png.length + 10);
    for (const tx of [0, 1, 0, 1]) await reader.read("default", shape, 0, { tx, ty: 0 });
    expect(store.tileReads).toBe(4);
    await reader.read("default", shape, 0, { tx: 1, ty: 0 });
    expect(store.tileReads).toBe(4);
  });
});
