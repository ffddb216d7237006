import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PixelBatchSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { canvasFilePath, readCanvasFile } from "./canvas-file.js";
import { CanvasSizeMismatchError } from "./canvas-store.js";
import { MemoryCanvasStore, PERSIST_INTERVAL_MS } from "./memory-canvas-store.js";

const logger = pino({ level: "silent" });

describe("MemoryCanvasStore", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "pixel-canvas-"));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const open = (width = 4, height = 3, bus = new MemoryPixelBus()) => new MemoryCanvasStore({ width, height, bus, logger, dataDir, historyLimit: 5 });

  it("publishes every batch once, in seq order, as a PixelBatch with seq and epoch", async () => {
    const bus = new MemoryPixelBus();
    const store = open(4, 3, bus);
    const heard: { seq: bigint; epoch: bigint; author: string }[] = [];
    bus.subscribe("default", (payload) => heard.push(fromBinary(PixelBatchSchema, payload)));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setPixels("default", [{ x: i % 4, y: 0, color: i }], `w${i}`)));
    await new Promise((r) => setTimeout(r, 0));
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(heard.map((b) => Number(b.seq))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(heard.map((b) => b.epoch)).size).toBe(1);
    await store.close();
  });

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

  it("saves within PERSIST_INTERVAL_MS while running, and after a crash starts a new epoch", async () => {
    const first = open();
    const { epoch } = await first.setPixels("default", [{ x: 0, y: 0, color: 0x010203 }], "a");
    await new Promise((r) => setTimeout(r, PERSIST_INTERVAL_MS + 300));
    const saved = await readCanvasFile(canvasFilePath(dataDir, "default"));
    expect(saved).toMatchObject({ seq: 1, epoch, clean: false });
    // No close(): as after kill -9, the file is the last periodic save.
    const second = open();
    const snap = await second.getCanvas("default");
    expect(snap.seq).toBe(1);
    expect(snap.epoch).toBeGreaterThan(epoch);
    expect([...snap.pixels.subarray(0, 3)]).toEqual([1, 2, 3]);
    await second.close();
    await first.close();
  });

  it("serves bounded history and reports a too-old or future after_seq as undefined", async () => {
    const store = new MemoryCanvasStore({ width: 4, height: 3, bus: new MemoryPixelBus(), logger, historyLimit: 5 });
    for (let i = 0; i < 400; i++) await store.setPixels("default", [{ x: 0, y: 0, color: i }], "");
    expect(await store.history("default", 0, 10)).toBeUndefined();
    expect(await store.history("default", 401, 10)).toBeUndefined();
    expect(await store.history("default", 400, 10)).toEqual([]);
    const tail = await store.history("default", 397, 10);
    expect(tail!.map((b) => Number(fromBinary(PixelBatchSchema, b).seq))).toEqual([398, 399, 400]);
    await store.close();
  });

  it("refuses to write into a saved canvas of another size until it is reset", async () => {
    const small = open(4, 3);
    await small.setPixels("default", [{ x: 0, y: 0, color: 0 }], "");
    await small.close();
    const big = open(8, 8);
    await expect(big.setPixels("default", [{ x: 5, y: 5, color: 0 }], "")).rejects.toBeInstanceOf(CanvasSizeMismatchError);
    await big.reset("default");
    expect((await big.getCanvas("default")).pixels.length).toBe(8 * 8 * 3);
    await big.close();
  });
});
