import { fromBinary } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PixelBatchSchema, type PixelBatch } from "../../../gen/pixel/v1/canvas_pb.js";
import { waitFor } from "../../../tools/process/free-port.js";
import type { PixelBus } from "../../shared/pixel-bus.js";
import { TILE_SIZE, tileName } from "../../../protocol/tile-grid.js";
import type { HistorySource } from "../../history/history-source.js";
import { CanvasSizeMismatchError, StoreUnavailableError, type CanvasShape, type CanvasStore } from "../canvas-store.js";

/** A store under test and the bus its batches are heard on. */
export interface OpenedCanvasStore {
  store: CanvasStore;
  /** Where the store's published batches arrive (the bus WatchCanvas would use). */
  bus: PixelBus;
  /** The archiver's view of the store's retained history (previous colours, kinds). */
  history: HistorySource;
  /** Releases what the harness opened besides the store (a subscriber connection). */
  dispose(): Promise<void>;
}

/** Sizes and bounds of a store under test. */
export interface CanvasStoreShape {
  width: number;
  height: number;
  historyLimit?: number;
  /** Registered shapes by canvas, for the store's `shapeOf`; other canvases get width x height, white. */
  shapes?: Record<string, CanvasShape>;
}

/** How the contract reaches one implementation. */
export interface CanvasStoreHarness {
  /** Empties the backing storage (a fresh data directory, FLUSHALL), run before each case. */
  clear(): Promise<void>;
  /**
   * Opens a store on the backing storage: stores opened within one case see the same canvases
   * once the previous one is closed (same data directory, same Redis).
   */
  open(shape: CanvasStoreShape): Promise<OpenedCanvasStore>;
}

/** Collects the decoded batches a bus delivers for one canvas, once the subscription is active. */
async function hear(bus: PixelBus, canvasId: string): Promise<PixelBatch[]> {
  const heard: PixelBatch[] = [];
  await bus.subscribe(canvasId, (payload) => heard.push(fromBinary(PixelBatchSchema, payload))).ready;
  return heard;
}

/** Paints batches, in seq order, onto a white canvas. */
function replay(batches: readonly PixelBatch[], width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3, 0xff);
  for (const b of [...batches].sort((a, z) => Number(a.seq - z.seq))) {
    for (const p of b.pixels) out.writeUIntBE(p.color, (p.y * width + p.x) * 3, 3);
  }
  return out;
}

/**
 * The rules every CanvasStore keeps (canvas-store.ts), as one suite that each implementation's
 * test file runs with its own factory, so the memory and the Redis store pass the same cases.
 */
export function describeCanvasStoreContract(name: string, harness: CanvasStoreHarness): void {
  describe(`${name} keeps the CanvasStore contract`, () => {
    const opened: OpenedCanvasStore[] = [];
    const open = async (shape: CanvasStoreShape = { width: 4, height: 3 }) => {
      const o = await harness.open(shape);
      opened.push(o);
      await waitFor("store ready", () => o.store.isReady());
      return o;
    };
    beforeEach(() => harness.clear());
    afterEach(async () => {
      for (const o of opened.splice(0)) {
        await o.store.close();
        await o.dispose();
      }
    });

    it("sizes and fills each canvas by its registered shape, and the others by the configured size, white", async () => {
      const { store } = await open({ width: 4, height: 3, shapes: { wide: { width: TILE_SIZE + 5, height: 2, background: 0x0a0b0c } } });
      await store.setPixels("wide", [{ x: TILE_SIZE + 4, y: 1, color: 0x010203 }], "a");
      const wide = await store.getCanvas("wide");
      expect([wide.width, wide.height]).toEqual([TILE_SIZE + 5, 2]);
      expect([...wide.pixels.subarray(((TILE_SIZE + 5) * 2 - 1) * 3)]).toEqual([1, 2, 3]);
      // Never painted (tile 0) and not yet painted within a painted tile: both the background.
      expect([...wide.pixels.subarray(0, 3), ...wide.pixels.subarray(-6, -3)]).toEqual([10, 11, 12, 10, 11, 12]);
      const tile = await store.getTile("wide", { tx: 1, ty: 0 });
      expect([tile.width, tile.height, tile.version, ...tile.pixels!.subarray(0, 3)]).toEqual([5, 2, 1, 10, 11, 12]);
      await expect(store.setPixels("other", [{ x: 4, y: 0, color: 0 }], "a")).rejects.toThrow(RangeError);
      expect([(await store.getCanvas("other")).width, await store.currentSeq("wide"), await store.currentSeq("other")]).toEqual([4, 1, 0]);
    });

    it("keeps each batch's previous colours in pixel order: background, earlier batches, a pixel placed twice in a run, and across runs", async () => {
      const shape = { width: TILE_SIZE + 5, height: 3, background: 0x0a0b0c };
      const { store, history } = await open({ width: 4, height: 3, shapes: { prev: shape } });
      const author = (userId: string) => ({ userId, name: userId });
      const run = (pixelCount: number, userId: string) => ({ pixelCount, userKey: userId, ipKey: "", author: author(userId) });
      const batches = [
        // A stroke (dense span), a far pixel in the next tile, and a pixel placed twice.
        { pixels: [{ x: 0, y: 0, color: 1 }, { x: 1, y: 0, color: 2 }, { x: TILE_SIZE + 4, y: 2, color: 3 }, { x: 0, y: 0, color: 4 }] },
        // Two runs painting the same pixels (sparse span), over batch 1's.
        { pixels: [{ x: 1, y: 0, color: 5 }, { x: 9, y: 0, color: 6 }, { x: 9, y: 0, color: 7 }, { x: 1, y: 0, color: 8 }, { x: 0, y: 0, color: 9 }], runs: [run(2, "u1"), run(3, "u2")] },
      ];
      const model = new Map<string, number>();
      const expected: number[][] = [];
      for (const b of batches) {
        expected.push(
          b.pixels.map((p) => {
            const before = model.get(`${p.x},${p.y}`) ?? shape.background;
            model.set(`${p.x},${p.y}`, p.color);
            return before;
          }),
        );
        await store.setPixels("prev", b.pixels, "a", b.runs);
      }
      const slice = await history.read("prev", 0, 10);
      expect([slice.seq, slice.firstRetainedSeq, slice.entries.map((e) => [e.seq, e.kind])]).toEqual([2, 1, [[1, "place"], [2, "place"]]]);
      const colours = (bytes: Uint8Array) => Array.from({ length: bytes.length / 3 }, (_, i) => (bytes[i * 3]! << 16) | (bytes[i * 3 + 1]! << 8) | bytes[i * 3 + 2]!);
      expect(slice.entries.map((e) => colours(e.previousColors))).toEqual(expected);
      expect(Buffer.from(slice.entries[1]!.batch).equals(Buffer.from((await store.history("prev", 1, 1))![0]!))).toBe(true);
      expect((await history.read("prev", 1, 10)).entries.map((e) => e.seq)).toEqual([2]);
      expect(await history.read("never-used", 0, 10)).toEqual({ epoch: 0, seq: 0, firstRetainedSeq: undefined, entries: [] });
    });

    it("publishes a batch without its authorship, which history keeps", async () => {
      const { store, bus, history } = await open();
      const heard = await hear(bus, "who");
      const by = (userId: string) => ({ pixelCount: 1, userKey: userId, ipKey: "", author: { userId, name: `name-${userId}` } });
      await store.setPixels("who", [{ x: 0, y: 0, color: 1 }, { x: 1, y: 0, color: 2 }], "", [by("u1"), by("u2")]);
      await waitFor("batch published", () => heard.some((b) => b.pixels.length > 0), 5_000, 5);
      const live = heard.find((b) => b.pixels.length > 0)!;
      expect([live.pixels.length, live.authors]).toEqual([2, []]);
      const stored = fromBinary(PixelBatchSchema, (await history.read("who", 0, 10)).entries[0]!.batch);
      expect(stored.authors.map((a) => [a.userId, a.name, a.pixelCount])).toEqual([["u1", "name-u1", 1], ["u2", "name-u2", 1]]);
      // What WatchCanvas and resume replay from history carries it too.
      expect(fromBinary(PixelBatchSchema, (await store.history("who", 0, 1))![0]!).authors).toEqual(stored.authors);
    });

    it("creates a missing canvas white at seq 0, and keeps canvases apart", async () => {
      const { store } = await open();
      const fresh = await store.getCanvas("one");
      expect([fresh.canvasId, fresh.width, fresh.height, fresh.seq]).toEqual(["one", 4, 3, 0]);
      expect(fresh.pixels.every((b) => b === 0xff)).toBe(true);
      await store.setPixels("two", [{ x: 1, y: 1, color: 0x123456 }], "a");
      expect((await store.getCanvas("one")).seq).toBe(0);
      expect((await store.getCanvas("two")).seq).toBe(1);
    });

    it("gives concurrent writes distinct seqs 1..N, publishes each once in seq order with seq and epoch, and the canvas equals their replay", async () => {
      const { store, bus } = await open();
      const { epoch } = await store.getCanvas("race");
      const heard = await hear(bus, "race");
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => store.setPixels("race", [{ x: i % 4, y: i % 3, color: i * 999 }, { x: (i + 1) % 4, y: 0, color: i }], `w${i}`)),
      );
      expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(new Set(results.map((r) => r.epoch))).toEqual(new Set([epoch]));
      await waitFor("every batch published", () => heard.length >= 40, 5_000, 5);
      expect(heard.map((b) => Number(b.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(heard.every((b) => b.epoch === BigInt(epoch) && b.canvasId === "race")).toBe(true);
      expect(heard.map((b) => b.author).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `w${i}`).sort());
      const snap = await store.getCanvas("race");
      expect(snap.seq).toBe(40);
      expect(Buffer.from(snap.pixels).equals(replay(heard, 4, 3))).toBe(true);
    });

    it("serves bounded history: [] at the current seq, undefined for an after_seq older than it or ahead of the canvas", async () => {
      const { store } = await open({ width: 4, height: 3, historyLimit: 5 });
      for (let i = 0; i < 400; i++) await store.setPixels("hist", [{ x: 0, y: 0, color: i }], "");
      expect(await store.history("hist", 400, 10)).toEqual([]);
      expect(await store.history("hist", 1, 10)).toBeUndefined();
      expect(await store.history("hist", 401, 10)).toBeUndefined();
      const tail = await store.history("hist", 395, 3);
      expect(tail!.map((b) => Number(fromBinary(PixelBatchSchema, b).seq))).toEqual([396, 397, 398]);
      const end = await store.history("hist", 397, 10);
      expect(end!.map((b) => Number(fromBinary(PixelBatchSchema, b).seq))).toEqual([398, 399, 400]);
    });

    it("reset clears to white at seq 0, drops history and publishes an epoch marker with a greater epoch", async () => {
      const { store, bus } = await open();
      const { epoch } = await store.setPixels("reset", [{ x: 0, y: 0, color: 0 }], "");
      const heard = await hear(bus, "reset");
      const reset = await store.reset("reset");
      expect(reset.epoch).toBeGreaterThan(epoch);
      const snap = await store.getCanvas("reset");
      expect([snap.seq, snap.epoch]).toEqual([0, reset.epoch]);
      expect(snap.pixels.every((b) => b === 0xff)).toBe(true);
      expect(await store.history("reset", 0, 10)).toEqual([]);
      await waitFor("the epoch marker", () => heard.length === 1, 5_000, 5);
      expect(heard[0]).toMatchObject({ seq: 0n, epoch: BigInt(reset.epoch), canvasId: "reset" });
      expect(heard[0]!.pixels).toHaveLength(0);
    });

    it("starts every new epoch strictly above the one it replaces, even several within one millisecond", async () => {
      const { store } = await open();
      let previous = (await store.getCanvas("epochs")).epoch;
      for (let i = 0; i < 20; i++) {
        const { epoch } = await store.reset("epochs");
        expect(epoch).toBeGreaterThan(previous);
        previous = epoch;
      }
    });

    it("refuses to write into a stored canvas of another size until it is reset", async () => {
      const small = await open({ width: 4, height: 3 });
      await small.store.setPixels("sized", [{ x: 0, y: 0, color: 0 }], "");
      await small.store.close();
      const big = await open({ width: 8, height: 8 });
      await expect(big.store.setPixels("sized", [{ x: 5, y: 5, color: 0 }], "")).rejects.toBeInstanceOf(CanvasSizeMismatchError);
      await big.store.reset("sized");
      expect((await big.store.setPixels("sized", [{ x: 5, y: 5, color: 0 }], "")).seq).toBe(1);
      expect((await big.store.getCanvas("sized")).pixels.length).toBe(8 * 8 * 3);
    });

    it("stores a batch spanning several tiles atomically: every snapshot and tile read shows all of a batch or none of it", async () => {
      const width = TILE_SIZE * 2 + 40;
      const height = TILE_SIZE + 20;
      const { store } = await open({ width, height });
      // Each batch paints one pixel in four tiles with its own colour; a torn batch would mix colours.
      const spots = [[0, 0], [TILE_SIZE + 1, 3], [width - 1, 0], [5, height - 1]] as const;
      const colorOfSeq = new Map<number, number>([[0, 0xffffff]]);
      const snapshots: Promise<{ seq: number; seen: number[] }>[] = [];
      const writes = Array.from({ length: 30 }, (_, i) => {
        const color = 0x010101 * (i + 1);
        snapshots.push(
          store.getCanvas("atomic").then((snap) => ({ seq: snap.seq, seen: spots.map(([x, y]) => Buffer.from(snap.pixels).readUIntBE((y * width + x) * 3, 3)) })),
          store.getTile("atomic", { tx: 1, ty: 0 }).then((tile) => ({ seq: tile.seq, seen: [tile.pixels === undefined ? 0xffffff : Buffer.from(tile.pixels).readUIntBE((3 * TILE_SIZE + 1) * 3, 3)] })),
        );
        return store.setPixels("atomic", spots.map(([x, y]) => ({ x, y, color })), "").then(({ seq }) => void colorOfSeq.set(seq, color));
      });
      await Promise.all(writes);
      const read = await Promise.all(snapshots);
      expect(read).toHaveLength(60);
      // Every read shows exactly the colour of the batch at the seq it is stamped with.
      expect(read.filter(({ seq, seen }) => seen.some((c) => c !== colorOfSeq.get(seq)))).toEqual([]);
      const versions = await store.tileVersions("atomic");
      expect(versions.seq).toBe(30);
      expect([...versions.versions].sort()).toEqual([["0:0", 30], ["0:1", 30], ["1:0", 30], ["2:0", 30]]);
    });

    it("bumps exactly the tiles a batch paints to its seq, and every tile's version is the last seq in history that painted it", async () => {
      const width = TILE_SIZE * 3;
      const height = TILE_SIZE * 2;
      const { store } = await open({ width, height });
      const batches: { seq: number; tiles: Set<string> }[] = [];
      for (let i = 0; i < 25; i++) {
        const pixels = Array.from({ length: 1 + (i % 3) }, (_, k) => ({ x: (i * 97 + k * 211) % width, y: (i * 53 + k * 131) % height, color: i }));
        const before = await store.tileVersions("versions");
        const { seq } = await store.setPixels("versions", pixels, "");
        const tiles = new Set(pixels.map((p) => tileName({ tx: Math.floor(p.x / TILE_SIZE), ty: Math.floor(p.y / TILE_SIZE) })));
        const after = await store.tileVersions("versions");
        const bumped = [...after.versions].filter(([name, v]) => before.versions.get(name) !== v).map(([name]) => name);
        expect(bumped.sort()).toEqual([...tiles].sort());
        expect([...tiles].every((name) => after.versions.get(name) === seq)).toBe(true);
        batches.push({ seq, tiles });
      }
      const history = (await store.history("versions", 0, 100))!.map((b) => fromBinary(PixelBatchSchema, b));
      expect(history.map((b) => Number(b.seq))).toEqual(batches.map((b) => b.seq));
      const expected = new Map<string, number>();
      for (const b of history) for (const p of b.pixels) expected.set(tileName({ tx: Math.floor(p.x / TILE_SIZE), ty: Math.floor(p.y / TILE_SIZE) }), Number(b.seq));
      const { seq, versions } = await store.tileVersions("versions");
      expect(seq).toBe(25);
      expect(versions).toEqual(expected);
      for (const [name, version] of expected) {
        const [tx, ty] = name.split(":").map(Number) as [number, number];
        expect((await store.getTile("versions", { tx, ty })).version).toBe(version);
      }
    });

    it("serves a tile with its clipped size, its pixels as GetCanvas has them, and nothing stored for a tile never painted", async () => {
      const width = TILE_SIZE + 30;
      const height = TILE_SIZE + 2;
      const { store } = await open({ width, height });
      const { seq, epoch } = await store.setPixels("tiles", [{ x: TILE_SIZE + 29, y: TILE_SIZE + 1, color: 0xabcdef }, { x: TILE_SIZE, y: TILE_SIZE, color: 0x123456 }], "");
      const tile = await store.getTile("tiles", { tx: 1, ty: 1 });
      expect([tile.width, tile.height, tile.seq, tile.epoch, tile.version]).toEqual([30, 2, seq, epoch, seq]);
      const whole = Buffer.from((await store.getCanvas("tiles")).pixels);
      const region = Buffer.concat([0, 1].map((r) => whole.subarray(((TILE_SIZE + r) * width + TILE_SIZE) * 3, ((TILE_SIZE + r) * width + width) * 3)));
      expect(Buffer.from(tile.pixels!).equals(region)).toBe(true);
      expect(Buffer.from(tile.pixels!).readUIntBE((30 * 2 - 1) * 3, 3)).toBe(0xabcdef);
      const blank = await store.getTile("tiles", { tx: 0, ty: 1 });
      expect([blank.width, blank.height, blank.version, blank.pixels, blank.seq]).toEqual([TILE_SIZE, 2, 0, undefined, seq]);
      expect([...(await store.tileVersions("tiles")).versions.keys()]).toEqual(["1:1"]);
      await expect(store.getTile("tiles", { tx: 2, ty: 0 })).rejects.toBeInstanceOf(RangeError);
    });

    it("keeps an 8192x8192 canvas as only the tiles painted: one corner painted is one tile", async () => {
      const { store } = await open({ width: 8192, height: 8192 });
      const { seq } = await store.setPixels("huge", [{ x: 8191, y: 8191, color: 0x0a0b0c }, { x: 8190, y: 8191, color: 0x0d0e0f }], "");
      expect([...(await store.tileVersions("huge")).versions]).toEqual([["31:31", seq]]);
      const corner = await store.getTile("huge", { tx: 31, ty: 31 });
      expect([...corner.pixels!.subarray(-6)]).toEqual([0x0d, 0x0e, 0x0f, 0x0a, 0x0b, 0x0c]);
      expect((await store.getTile("huge", { tx: 0, ty: 0 })).pixels).toBeUndefined();
    });

    it("reset drops every tile and its version", async () => {
      const { store } = await open({ width: TILE_SIZE * 2, height: 4 });
      await store.setPixels("reset-tiles", [{ x: 0, y: 0, color: 0 }, { x: TILE_SIZE, y: 3, color: 0 }], "");
      await store.reset("reset-tiles");
      expect((await store.tileVersions("reset-tiles")).versions.size).toBe(0);
      expect((await store.getTile("reset-tiles", { tx: 1, ty: 0 })).pixels).toBeUndefined();
    });

    it("is not ready after close, and every later call fails with StoreUnavailableError", async () => {
      const { store } = await open();
      await store.setPixels("closed", [{ x: 0, y: 0, color: 0 }], "");
      await store.close();
      expect(store.isReady()).toBe(false);
      await expect(store.getCanvas("closed")).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.setPixels("closed", [{ x: 0, y: 0, color: 0 }], "")).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.reset("closed")).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.getTile("closed", { tx: 0, ty: 0 })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.tileVersions("closed")).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}
