import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../tools/process/free-port.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { PERSIST_INTERVAL_MS } from "../shared/timing.js";
import { canvasFilePath, readCanvasFile } from "./canvas-file.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { describeCanvasStoreContract } from "./test-support/canvas-store-contract.js";

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

  describeCanvasStoreContract("MemoryCanvasStore with a data directory", {
    async clear() {
      freshDataDir();
    },
    async open({ width, height, historyLimit }) {
      const bus = new MemoryPixelBus();
      return { store: new MemoryCanvasStore({ width, height, bus, logger, dataDir, historyLimit }), bus, dispose: () => bus.close() };
    },
  });

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
  });
});
