import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../shared/logger.js";
import { MemoryPixelBus } from "../../shared/pixel-bus.js";
import { memoryHistorySource } from "../../history/memory-history-source.js";
import { MemoryCanvasStore } from "../memory-canvas-store.js";
import { planUndo } from "./undo-plan.js";

const logger = createLogger("test");
logger.level = "silent";
const run = (userId: string, pixelCount: number) => ({ pixelCount, userKey: userId, ipKey: "", author: { userId, name: userId } });

async function setup() {
  const store = new MemoryCanvasStore({ width: 8, height: 8, bus: new MemoryPixelBus(), logger });
  return { store, source: memoryHistorySource(store, []) };
}

async function failure(call: Promise<unknown>): Promise<[Code, string]> {
  try {
    await call;
  } catch (err) {
    const e = ConnectError.from(err);
    return [e.code, e.rawMessage];
  }
  throw new Error("expected a failure");
}

describe("planUndo", () => {
  it("restores the user's newest placement pixel by pixel: the colour before their first write of it, expecting what the batch left", async () => {
    const { store, source } = await setup();
    await store.setPixels("c", [{ x: 1, y: 1, color: 7 }], "", [run("u", 1)]);
    // One batch: the user paints (1,1) twice and (2,2); another run paints (3,3) after them.
    await store.setPixels("c", [{ x: 1, y: 1, color: 8 }, { x: 2, y: 2, color: 9 }, { x: 1, y: 1, color: 10 }, { x: 3, y: 3, color: 11 }], "", [run("u", 3), run("v", 1)]);
    const plan = await planUndo(source, "c", "u", Date.now(), 5_000);
    expect([plan.seq, plan.paintedOver]).toEqual([2, 0]);
    expect(plan.writes).toEqual([{ x: 1, y: 1, color: 7, expected: 10 }, { x: 2, y: 2, color: 0xffffff, expected: 9 }]);
  });

  it("leaves pixels painted since by anyone, and refuses when every pixel was (or it was undone already)", async () => {
    const { store, source } = await setup();
    await store.setPixels("c", [{ x: 1, y: 1, color: 8 }, { x: 2, y: 2, color: 9 }], "", [run("u", 2)]);
    await store.setPixels("c", [{ x: 2, y: 2, color: 1 }], "", [run("v", 1)]);
    const plan = await planUndo(source, "c", "u", Date.now(), 5_000);
    expect([plan.writes, plan.paintedOver]).toEqual([[{ x: 1, y: 1, color: 0xffffff, expected: 8 }], 1]);
    await store.restore("c", plan.writes, { kind: "undo", author: "u", by: { userId: "u", name: "u" } });
    expect(await failure(planUndo(source, "c", "u", Date.now(), 5_000))).toEqual([Code.FailedPrecondition, expect.stringContaining("painted over")]);
  });

  it("refuses when the user has no placement within the window, or none at all", async () => {
    const { store, source } = await setup();
    await store.setPixels("c", [{ x: 1, y: 1, color: 8 }], "", [run("u", 1)]);
    expect((await failure(planUndo(source, "c", "u", Date.now() + 10_000, 5_000)))[0]).toBe(Code.FailedPrecondition);
    expect((await failure(planUndo(source, "c", "w", Date.now(), 5_000)))[0]).toBe(Code.FailedPrecondition);
  });
});
