import { fromBinary } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PixelBatchSchema, type PixelBatch } from "../../../gen/pixel/v1/canvas_pb.js";
import { waitFor } from "../../../tools/process/free-port.js";
import { TILE_SIZE } from "../../../protocol/tile-grid.js";
import type { CanvasStoreHarness, CanvasStoreShape, OpenedCanvasStore } from "./canvas-store-contract.js";

const colours = (bytes: Uint8Array) => Array.from({ length: bytes.length / 3 }, (_, i) => (bytes[i * 3]! << 16) | (bytes[i * 3 + 1]! << 8) | bytes[i * 3 + 2]!);

/**
 * CanvasStore.restore (undo and rollback writes), as one suite for every store: the per-pixel
 * condition, the batch it publishes and keeps in history, and the undo allowance.
 */
export function describeRestoreContract(name: string, harness: CanvasStoreHarness): void {
  describe(`${name} restores conditionally (CanvasStore.restore)`, () => {
    const opened: OpenedCanvasStore[] = [];
    const open = async (shape: CanvasStoreShape = { width: TILE_SIZE + 4, height: 3, shapes: { r: { width: TILE_SIZE + 4, height: 3, background: 0x0a0b0c } } }) => {
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

    it("writes only the pixels that still show the expected colour, as one published batch with kind, previous colours and one author run", async () => {
      const { store, bus, history } = await open();
      const heard: PixelBatch[] = [];
      // Epoch markers (no pixels) may precede the batches.
      await bus.subscribe("r", (payload) => {
        const batch = fromBinary(PixelBatchSchema, payload);
        if (batch.pixels.length > 0) heard.push(batch);
      }).ready;
      await store.setPixels("r", [{ x: 0, y: 0, color: 1 }, { x: 1, y: 0, color: 2 }, { x: TILE_SIZE + 3, y: 2, color: 3 }], "vandal");
      await store.setPixels("r", [{ x: 1, y: 0, color: 9 }], "good");
      const writes = [
        { x: 0, y: 0, color: 0x0a0b0c, expected: 1 },
        { x: 1, y: 0, color: 0x0a0b0c, expected: 2 },
        { x: TILE_SIZE + 3, y: 2, color: 0x0a0b0c, expected: 3 },
        // A tile never painted shows the background: restoring it creates the tile.
        { x: 2, y: 2, color: 0x123456, expected: 0x0a0b0c },
      ];
      const done = await store.restore("r", writes, { kind: "undo", author: "vandal", by: { userId: "u_v", name: "vandal" } });
      expect([done.seq, done.restored, done.skipped, done.retryAfterMs]).toEqual([3, 3, 1, 0]);
      const snap = await store.getCanvas("r");
      const at = (x: number, y: number) => Buffer.from(snap.pixels).readUIntBE((y * snap.width + x) * 3, 3);
      expect([at(0, 0), at(1, 0), at(TILE_SIZE + 3, 2), at(2, 2)]).toEqual([0x0a0b0c, 9, 0x0a0b0c, 0x123456]);
      await waitFor("restore published", () => heard.length === 3);
      const batch = heard[2]!;
      expect(batch.pixels.map((p) => [p.x, p.y, p.color])).toEqual([[0, 0, 0x0a0b0c], [TILE_SIZE + 3, 2, 0x0a0b0c], [2, 2, 0x123456]]);
      // The live fan-out leaves authorship out; the stored entry keeps the one author run.
      expect([batch.seq, batch.author, batch.authors]).toEqual([3n, "vandal", []]);
      const entry = (await history.read("r", 2, 10)).entries[0]!;
      expect([entry.seq, entry.kind, colours(entry.previousColors)]).toEqual([3, "undo", [1, 3, 0x0a0b0c]]);
      const stored = fromBinary(PixelBatchSchema, entry.batch);
      expect(stored.authors.map((a) => [a.userId, a.name, a.pixelCount])).toEqual([["u_v", "vandal", 3]]);
      expect((await store.tileVersions("r")).versions.get(`${Math.floor((TILE_SIZE + 3) / TILE_SIZE)}:0`)).toBe(3);
    });

    it("writes nothing, not even a seq, when every pixel was painted since; a rollback carries no author run", async () => {
      const { store, history } = await open();
      await store.setPixels("r", [{ x: 0, y: 0, color: 1 }], "a");
      const none = await store.restore("r", [{ x: 0, y: 0, color: 5, expected: 2 }], { kind: "rollback", author: "moderation" });
      expect([none.seq, none.restored, none.skipped]).toEqual([1, 0, 1]);
      const done = await store.restore("r", [{ x: 0, y: 0, color: 5, expected: 1 }], { kind: "rollback", author: "moderation" });
      expect([done.seq, done.restored]).toEqual([2, 1]);
      const entry = (await history.read("r", 1, 10)).entries[0]!;
      expect(entry.kind).toBe("rollback");
      expect(fromBinary(PixelBatchSchema, entry.batch).authors).toEqual([]);
    });

    it("allows a user perWindow restores per window on a canvas, counting only restores that wrote, and answers the wait", async () => {
      const { store } = await open();
      const limit = { userId: "u_1", perWindow: 2, windowMs: 60_000 };
      const undo = (color: number, expected: number) => store.restore("r", [{ x: 0, y: 0, color, expected }], { kind: "undo", author: "", by: { userId: "u_1", name: "" }, limit });
      expect((await undo(7, 1)).restored).toBe(0);
      expect((await undo(1, 0x0a0b0c)).restored).toBe(1);
      expect((await undo(2, 1)).restored).toBe(1);
      const refused = await undo(3, 2);
      expect([refused.restored, refused.seq]).toEqual([0, 2]);
      expect(refused.retryAfterMs).toBeGreaterThan(50_000);
      const other = await store.restore("r", [{ x: 0, y: 0, color: 3, expected: 2 }], { kind: "undo", author: "", limit: { ...limit, userId: "u_2" } });
      expect(other.restored).toBe(1);
    });

    it("refuses writes outside the canvas or twice for one pixel", async () => {
      const { store } = await open();
      await expect(store.restore("r", [{ x: TILE_SIZE + 4, y: 0, color: 0, expected: 0 }], { kind: "rollback", author: "" })).rejects.toThrow(RangeError);
      await expect(store.restore("r", [{ x: 0, y: 0, color: 0, expected: 0 }, { x: 0, y: 0, color: 1, expected: 0 }], { kind: "rollback", author: "" })).rejects.toThrow(RangeError);
    });
  });
}
