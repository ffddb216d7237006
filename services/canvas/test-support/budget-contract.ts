import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { PixelBatchSchema } from "../../../gen/pixel/v1/canvas_pb.js";
import type { BudgetSettings } from "../budget-settings.js";
import { PlacementTooLargeError, type CanvasStore, type PlacementRun } from "../canvas-store.js";
import type { BudgetRule } from "../placement-budget.js";

/** A store under test, opened with `budgets`; `budgetKeyTtlMs` reads a budget key's remaining life (-2 when missing), as PTTL does. */
export interface BudgetStoreFactory {
  open(budgets: BudgetSettings): Promise<CanvasStore>;
  budgetKeyTtlMs(key: string): Promise<number>;
  close(): Promise<void>;
}

/** Canvas 16 x 8 is what every factory opens. */
export const CONTRACT_WIDTH = 16;
export const CONTRACT_HEIGHT = 8;

const RATE_10: BudgetRule = { kind: "rate", perSecond: 10, burst: 10 };
const COOLDOWN: BudgetRule = { kind: "cooldown", pixels: 2, cooldownMs: 300 };

function settings(ipFactor = 0): BudgetSettings {
  return { perCanvas: new Map<string, BudgetRule | "off">([["rate", RATE_10], ["cooldown", COOLDOWN], ["free", "off"]]), fallback: RATE_10, ipFactor };
}

/** `count` pixels on row `row` starting at column `from`, in colour `color`. */
function line(row: number, from: number, count: number, color: number): { x: number; y: number; color: number }[] {
  return Array.from({ length: count }, (_, i) => ({ x: (from + i) % CONTRACT_WIDTH, y: row, color }));
}

function run(pixelCount: number, userKey: string, ipKey = ""): PlacementRun {
  return { pixelCount, userKey, ipKey };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pixels of every stored batch of `canvasId`, oldest first. */
async function storedBatches(store: CanvasStore, canvasId: string): Promise<{ seq: number; colors: number[] }[]> {
  const history = (await store.history(canvasId, 0, 100)) ?? [];
  return history.map((bytes) => {
    const batch = fromBinary(PixelBatchSchema, bytes);
    return { seq: Number(batch.seq), colors: batch.pixels.map((p) => p.color) };
  });
}

/**
 * The placement budget contract every CanvasStore honours (memory and Redis run the same cases):
 * per-run decisions inside one atomic write, both budgets together, exact waits, expiry.
 */
export function describeBudgetContract(name: string, factory: () => Promise<BudgetStoreFactory>): void {
  describe(`${name}: placement budgets`, () => {
    let opened: BudgetStoreFactory | undefined;
    const open = async (ipFactor = 0) => {
      opened ??= await factory();
      return opened.open(settings(ipFactor));
    };
    afterAll(async () => opened?.close());

    it("stores the runs of many users in one batch with one seq", async () => {
      const store = await open();
      const pixels = [...line(0, 0, 5, 1), ...line(1, 0, 5, 2), ...line(2, 0, 5, 3)];
      const res = await store.setPixels("rate", pixels, "", [run(5, "a"), run(5, "b"), run(5, "c")]);
      expect(res.retryAfterMs).toEqual([0, 0, 0]);
      expect(await storedBatches(store, "rate")).toEqual([{ seq: res.seq, colors: pixels.map((p) => p.color) }]);
    });

    it("charges one user's runs in one batch in turn and refuses the run that no longer fits, storing only the others", async () => {
      const store = await open();
      const pixels = [...line(0, 0, 4, 0x11), ...line(1, 0, 4, 0x22), ...line(2, 0, 4, 0x33), ...line(3, 0, 1, 0x44)];
      const rate = await store.setPixels("rate", pixels, "", [run(4, "solo"), run(4, "solo"), run(4, "solo"), run(1, "solo")]);
      // 10 tokens: 4 + 4 fit, the third run of 4 does not (2 left), the last single pixel does.
      expect(rate.retryAfterMs[0]).toBe(0);
      expect(rate.retryAfterMs[1]).toBe(0);
      expect(rate.retryAfterMs[2]).toBeGreaterThan(0);
      expect(rate.retryAfterMs[3]).toBe(0);
      const batches = await storedBatches(store, "rate");
      expect(batches.at(-1)).toEqual({ seq: rate.seq, colors: [0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x44] });
      const snapshot = await store.getCanvas("rate");
      // Row 2 (the refused run) is still white.
      expect([...snapshot.pixels.subarray(2 * CONTRACT_WIDTH * 3, 2 * CONTRACT_WIDTH * 3 + 12)]).toEqual(Array<number>(12).fill(0xff));
    });

    it("publishes the authorship of the stored runs only (refused runs leave it too), never their network keys", async () => {
      const store = await open();
      const pixels = [...line(0, 0, 6, 0x11), ...line(1, 0, 6, 0x22), ...line(2, 0, 3, 0x33)];
      const authored = (pixelCount: number, userId: string): PlacementRun => ({ ...run(pixelCount, userId, "198.51.100.7"), author: { userId, name: userId.toUpperCase() } });
      // 10 tokens for "ann": her 6 fit, her next 6 do not; "bob" has his own budget.
      const res = await store.setPixels("rate", pixels, "", [authored(6, "ann"), authored(6, "ann"), authored(3, "bob")]);
      expect(res.retryAfterMs.map((ms) => ms === 0)).toEqual([true, false, true]);
      const published = (await store.history("rate", 0, 100))!.at(-1)!;
      const batch = fromBinary(PixelBatchSchema, published);
      expect(batch.pixels.map((p) => p.color)).toEqual([...Array<number>(6).fill(0x11), ...Array<number>(3).fill(0x33)]);
      expect(batch.authors.map(({ userId, name, pixelCount, ipKey }) => ({ userId, name, pixelCount, ipKey }))).toEqual([
        { userId: "ann", name: "ANN", pixelCount: 6, ipKey: "" },
        { userId: "bob", name: "BOB", pixelCount: 3, ipKey: "" },
      ]);
      expect(Buffer.from(published).includes("198.51.100.7")).toBe(false);
    });

    it("writes nothing and keeps the seq when every run is refused", async () => {
      const store = await open();
      const first = await store.setPixels("fallback-a", line(0, 0, 10, 5), "", [run(10, "x")]);
      const second = await store.setPixels("fallback-a", line(1, 0, 3, 6), "", [run(3, "x")]);
      expect(second.retryAfterMs[0]).toBeGreaterThan(0);
      expect(second.seq).toBe(first.seq);
      expect((await storedBatches(store, "fallback-a")).map((b) => b.seq)).toEqual([first.seq]);
    });

    it("stores accepted runs into their tile with the batch's seq as its version; a refused run paints no pixel and bumps no version", async () => {
      const store = await open();
      const first = await store.setPixels("fallback-t", line(0, 0, 10, 7), "", [run(10, "t")]);
      expect(first.retryAfterMs).toEqual([0]);
      const refused = await store.setPixels("fallback-t", line(1, 0, 3, 8), "", [run(3, "t")]);
      expect(refused.retryAfterMs[0]).toBeGreaterThan(0);
      const { seq, versions } = await store.tileVersions("fallback-t");
      expect({ seq, versions: [...versions] }).toEqual({ seq: first.seq, versions: [["0:0", first.seq]] });
      const tile = await store.getTile("fallback-t", { tx: 0, ty: 0 });
      expect([...tile.pixels!.subarray(0, 3)]).toEqual([0, 0, 7]);
      // Row 1 (the refused run) is still white.
      expect([...tile.pixels!.subarray(CONTRACT_WIDTH * 3, CONTRACT_WIDTH * 3 + 9)]).toEqual(Array<number>(9).fill(0xff));
    });

    it("answers a rate refusal with the exact wait after which the same run fits", async () => {
      const store = await open();
      await store.setPixels("fallback-b", line(0, 0, 10, 1), "", [run(10, "w")]);
      const refused = await store.setPixels("fallback-b", line(1, 0, 5, 2), "", [run(5, "w")]);
      // 5 tokens at 10/s take 500 ms, less what refilled since the first write.
      expect(refused.retryAfterMs[0]).toBeGreaterThan(300);
      expect(refused.retryAfterMs[0]).toBeLessThanOrEqual(500);
      await sleep(refused.retryAfterMs[0]! + 5);
      expect((await store.setPixels("fallback-b", line(1, 0, 5, 2), "", [run(5, "w")])).retryAfterMs).toEqual([0]);
    });

    it("gives a cooldown canvas N pixels, then refuses until the cooldown after the first one ends", async () => {
      const store = await open();
      expect((await store.setPixels("cooldown", line(4, 0, 2, 1), "", [run(2, "cd")])).retryAfterMs).toEqual([0]);
      const refused = await store.setPixels("cooldown", line(4, 2, 1, 1), "", [run(1, "cd")]);
      expect(refused.retryAfterMs[0]).toBeGreaterThan(200);
      expect(refused.retryAfterMs[0]).toBeLessThanOrEqual(300);
      await sleep(refused.retryAfterMs[0]! + 5);
      expect((await store.setPixels("cooldown", line(4, 2, 2, 1), "", [run(2, "cd")])).retryAfterMs).toEqual([0]);
    });

    it("refuses a run when its network budget is spent even though its user budget is not", async () => {
      const store = await open(1);
      const res = await store.setPixels("fallback-c", line(0, 0, 14, 1), "", [run(7, "n1", "10.0.0.1"), run(4, "n2", "10.0.0.1"), run(3, "n3", "10.0.0.2")]);
      expect(res.retryAfterMs[0]).toBe(0);
      expect(res.retryAfterMs[1]).toBeGreaterThan(0);
      expect(res.retryAfterMs[2]).toBe(0);
    });

    it("refuses a run larger than the budget could ever hold as too large, not as a wait", async () => {
      const store = await open();
      await expect(store.setPixels("rate", line(5, 0, 11, 1), "", [run(11, "big")])).rejects.toBeInstanceOf(PlacementTooLargeError);
    });

    it("stores every run on a canvas whose budget is off, answering one result per run", async () => {
      const store = await open();
      const res = await store.setPixels("free", line(0, 0, 16, 1), "", [run(10, "f"), run(6, "f")]);
      const again = await store.setPixels("free", line(1, 0, 16, 2), "", [run(16, "f")]);
      expect([res.retryAfterMs, again.retryAfterMs]).toEqual([[0, 0], [0]]);
      expect((await storedBatches(store, "free")).map((b) => b.colors.length)).toEqual([16, 16]);
    });

    it("lets a budget key vanish once the budget is full again", async () => {
      const store = await open();
      await store.setPixels("fallback-d", line(0, 0, 2, 1), "", [run(2, "exp")]);
      // 2 tokens refill in 200 ms; afterwards a fresh burst of 10 fits.
      const ttl = await opened!.budgetKeyTtlMs("canvas:{fallback-d}:budget:u:exp");
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(200);
      await sleep(250);
      expect(await opened!.budgetKeyTtlMs("canvas:{fallback-d}:budget:u:exp")).toBe(-2);
      expect((await store.setPixels("fallback-d", line(1, 0, 10, 1), "", [run(10, "exp")])).retryAfterMs).toEqual([0]);
    });
  });
}
