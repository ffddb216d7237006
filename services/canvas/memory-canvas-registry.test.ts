import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryCanvasRegistry, registryFilePath } from "./memory-canvas-registry.js";
import { describeCanvasRegistryContract } from "./test-support/canvas-registry-contract.js";

describe("MemoryCanvasRegistry", () => {
  let dataDir: string | undefined;
  afterEach(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  // One registry object is one process: "concurrent" creates through two of them would be two
  // processes on one data directory, which the embedded store does not support. The harness
  // therefore hands out one shared registry per data directory until it is closed.
  let shared: MemoryCanvasRegistry | undefined;
  describeCanvasRegistryContract("MemoryCanvasRegistry with a data directory", {
    async clear() {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      dataDir = mkdtempSync(join(tmpdir(), "pixel-registry-"));
      shared = undefined;
    },
    async open() {
      if (shared === undefined || !shared.isReady()) shared = new MemoryCanvasRegistry(dataDir);
      return shared;
    },
  });

  it("saves every create to canvases.json before resolving", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "pixel-registry-"));
    const registry = new MemoryCanvasRegistry(dataDir);
    await registry.create({ name: "big", width: 2048, height: 2048, background: 0xffffff });
    expect(JSON.parse(readFileSync(registryFilePath(dataDir), "utf8"))).toMatchObject({ big: { width: 2048, height: 2048, background: 0xffffff } });
    await registry.close();
  });

  it("refuses to start on a corrupt registry file rather than forget its canvases", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "pixel-registry-"));
    writeFileSync(registryFilePath(dataDir), JSON.stringify({ big: { width: 0 } }));
    await expect(new MemoryCanvasRegistry(dataDir).list()).rejects.toThrow(/registry entry of canvas "big" is corrupt/);
  });
});
