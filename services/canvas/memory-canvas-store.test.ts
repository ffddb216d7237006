import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { PERSIST_INTERVAL_MS } from "../shared/timing.js";
import { canvasFilePath, readCanvasFile } from "./canvas-file.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { memoryHistorySource } from "../history/memory-history-source.js";
import { describeCanvasStoreContract, type CanvasStoreHarness } from "./test-support/canvas-store-contract.js";
import { describeRestoreContract } from "./test-support/restore-contract.js";

const logger = pino({ level: "silent" });

/** Time a saved file may take to reach the disk (write, fsync, rename) on a loaded machine. */
const FILE_WRITE_ALLOWANCE_MS = 300;

describe("MemoryCanvasStore", () => {
  let dataDir: string | undefined;
  const freshDataDir = () => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = mkdtempSync(join(tmpdir(), "pixel-canvas-"));
    return dataDir;
  };
  afterEach(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  const harness: CanvasStoreHarness = {
    async clear() {
      freshDataDir();
    },
    async open({ width, height, historyLimit, shapes }) {
      const bus = new MemoryPixelBus();
      const shapeOf = (canvasId: string) => shapes?.[canvasId];
      const store = new MemoryCanvasStore({ width, height, bus, logger, dataDir, historyLimit, shapeOf });
      return { store, bus, history: memoryHistorySource(store, []), dispose: () => bus.close() };
    },
  };
  describeCanvasStoreContract("MemoryCanvasStore with a data directory", harness);
  describeRestoreContract("MemoryCanvasStore with a data directory", harness);

  describe("persistence", () => {
    beforeEach(() => void freshDataDir());
    const open = () => new MemoryCanvasStore({ width: 4, height: 3, bus: new MemoryPixelBus(), logger, dataDir, historyLimit: 5 });

    it("keeps the drawing, seq and epoch across a graceful restart with the same DATA_DIR", async () => {
      const first = open();
      const { epoch } = await first.setPixels("default", [{ x: 3, y: 2, color: 0xabcdef }], "a");
      await first.close();
      const second = open();
      const snap = await second.getCanvas("default");
      expect(snap.seq).toBe(1);
      expect(snap.epoch).toBe(epoch);
      expect([...snap.pixels.subarray(33, 36)]).toEqual([0xab, 0xcd, 0xef]);
      await second.close();
    });

    it("saves a write while running PERSIST_INTERVAL_MS after it (not at once), and after a crash starts a new epoch", async () => {
      const first = open();
      const path = canvasFilePath(dataDir!, "default");
      const written = performance.now();
      const { epoch } = await first.setPixels("default", [{ x: 0, y: 0, color: 0x010203 }], "a");
      expect(existsSync(path)).toBe(false);
      await waitFor("the periodic save", () => existsSync(path), PERSIST_INTERVAL_MS + FILE_WRITE_ALLOWANCE_MS, 5);
      const savedAfter = performance.now() - written;
      expect(savedAfter).toBeGreaterThanOrEqual(PERSIST_INTERVAL_MS - 5);
      expect(savedAfter).toBeLessThan(PERSIST_INTERVAL_MS + FILE_WRITE_ALLOWANCE_MS);
      expect(await readCanvasFile(path)).toMatchObject({ seq: 1, epoch, clean: false });
      // No close(): as after kill -9, the file is the last periodic save.
      const second = open();
      const snap = await second.getCanvas("default");
      expect(snap.seq).toBe(1);
      expect(snap.epoch).toBeGreaterThan(epoch);
      expect([...snap.pixels.subarray(0, 3)]).toEqual([1, 2, 3]);
      await second.close();
      await first.close();
    });

    it("reads a version 1 file (the whole canvas) as tiles with its seq, epoch and pixels, and saves it back as painted tiles only", async () => {
      const width = TILE_SIZE + 44;
      const height = TILE_SIZE + 4;
      const pixels = Buffer.alloc(width * height * 3, 0xff);
      pixels.writeUIntBE(0x112233, (3 * width + 5) * 3, 3);
      pixels.writeUIntBE(0x445566, (height * width - 1) * 3, 3);
      const header = Buffer.alloc(30);
      header.write("PXCV", 0, "latin1");
      header[4] = 1;
      header[5] = 1;
      header.writeUInt32BE(width, 6);
      header.writeUInt32BE(height, 10);
      header.writeBigUInt64BE(9n, 14);
      header.writeBigUInt64BE(1_700_000_000_000n, 22);
      mkdirSync(dataDir!, { recursive: true });
      const path = canvasFilePath(dataDir!, "default");
      writeFileSync(path, Buffer.concat([header, pixels]));
      const store = new MemoryCanvasStore({ width, height, bus: new MemoryPixelBus(), logger, dataDir });
      const snap = await store.getCanvas("default");
      expect([snap.seq, snap.epoch]).toEqual([9, 1_700_000_000_000]);
      expect(Buffer.from(snap.pixels).equals(pixels)).toBe(true);
      expect([...(await store.tileVersions("default")).versions].sort()).toEqual([["0:0", 9], ["1:1", 9]]);
      await store.close();
      const saved = await readCanvasFile(path);
      expect(saved?.migratedFrom).toBeUndefined();
      expect([...saved!.tiles.keys()].sort()).toEqual(["0:0", "1:1"]);
    });

    it("saves an 8192x8192 canvas with one corner painted as a file of that one tile", async () => {
      const store = new MemoryCanvasStore({ width: 8192, height: 8192, bus: new MemoryPixelBus(), logger, dataDir });
      await store.setPixels("default", [{ x: 8191, y: 0, color: 0 }], "");
      await store.close();
      const tileBytes = TILE_SIZE * TILE_SIZE * 3;
      expect(statSync(canvasFilePath(dataDir!, "default")).size).toBe(38 + 12 + tileBytes);
    });
  });
});
