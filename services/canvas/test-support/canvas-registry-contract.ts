import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CanvasExistsError, WHITE, type CanvasRegistry } from "../canvas-registry.js";

/** How the contract reaches one registry implementation. */
export interface CanvasRegistryHarness {
  /** Empties the backing storage, run before each case. */
  clear(): Promise<void>;
  /** Opens a registry on the backing storage; within one case, registries see the same entries. */
  open(): Promise<CanvasRegistry>;
}

/**
 * The rules every CanvasRegistry keeps (canvas-registry.ts), run by each implementation's test
 * file with its own harness, so the embedded and the Redis registry pass the same cases.
 */
export function describeCanvasRegistryContract(name: string, harness: CanvasRegistryHarness): void {
  describe(`${name} keeps the CanvasRegistry contract`, () => {
    const opened: CanvasRegistry[] = [];
    const open = async () => {
      const registry = await harness.open();
      opened.push(registry);
      return registry;
    };
    beforeEach(() => harness.clear());
    afterEach(async () => {
      for (const r of opened.splice(0)) await r.close();
    });

    it("registers a canvas once: the same spec again changes nothing, another size or background is AlreadyExists", async () => {
      const registry = await open();
      const spec = { name: "big", width: 2048, height: 1024, background: WHITE };
      const first = await registry.create(spec);
      expect(first.created).toBe(true);
      expect(first.info).toMatchObject(spec);
      const again = await registry.create(spec);
      expect(again).toEqual({ info: first.info, created: false });
      await expect(registry.create({ ...spec, width: 2047 })).rejects.toThrow(CanvasExistsError);
      await expect(registry.create({ ...spec, background: 0 })).rejects.toThrow(/already exists as 2048x1024 with background #ffffff/);
      expect(await registry.get("big")).toEqual(first.info);
    });

    it("answers undefined for a name never registered, and lists every canvas by name", async () => {
      const registry = await open();
      expect(await registry.get("nope")).toBeUndefined();
      expect(registry.known("nope")).toBeUndefined();
      await registry.create({ name: "zeta", width: 1, height: 2, background: 0x123456 });
      await registry.create({ name: "alpha", width: 3, height: 4, background: WHITE });
      expect((await registry.list()).map((c) => [c.name, c.width, c.height, c.background])).toEqual([
        ["alpha", 3, 4, WHITE],
        ["zeta", 1, 2, 0x123456],
      ]);
      expect(registry.known("zeta")?.background).toBe(0x123456);
    });

    it("lets exactly one of many concurrent creates of one name register it", async () => {
      const registry = await open();
      const other = await open();
      const spec = { name: "race", width: 10, height: 10, background: WHITE };
      const results = await Promise.all([registry, other, registry, other].map((r) => r.create(spec)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.info.createdUnixMs)).size).toBe(1);
    });

    it("keeps what was registered for a registry opened after a close", async () => {
      const first = await open();
      const { info } = await first.create({ name: "kept", width: 8192, height: 8192, background: 0 });
      await first.close();
      const second = await open();
      expect(second.known("kept")).toBeUndefined();
      expect(await second.get("kept")).toEqual(info);
      expect(second.known("kept")).toEqual(info);
    });
  });
}
