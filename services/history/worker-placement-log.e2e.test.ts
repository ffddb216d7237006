import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LogIncompleteError } from "./placement-log.js";
import { openPgliteInWorker } from "./worker-placement-log.js";

// Needs dist/ (npm run build:services): the worker thread runs the built placement-log-worker.js.
describe("the embedded placement log in a worker thread", () => {
  const dir = mkdtempSync(join(tmpdir(), "pixel-history-worker-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("forwards calls and their errors, keeps the event loop free while PGlite starts, and keeps rows across a reopen", async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 10);
    const started = Date.now();
    // A directory that does not exist yet: created in a temporary sibling, then renamed into place.
    const dataDir = join(dir, "history");
    const log = await openPgliteInWorker(dataDir);
    clearInterval(timer);
    // A blocked loop would have ticked far fewer times than the start-up took in 10 ms steps.
    expect(ticks).toBeGreaterThan((Date.now() - started) / 10 / 4);
    const batch = { canvasId: "c", epoch: 5, seq: 1, timeMs: 1000, kind: "place" as const, author: "a", pixels: [{ x: 1, y: 2, color: 3, previousColor: 4 }], runs: [{ userId: "u", name: "n", pixelCount: 1 }] };
    expect(await log.append([batch])).toBe(1);
    await expect(log.regionAt({ canvasId: "c", epoch: 5, atSeq: 2, rect: { x: 0, y: 0, width: 1, height: 1 }, background: 0 })).rejects.toThrow(LogIncompleteError);
    await expect(log.rollbackPlan({ canvasId: "c", epoch: 5, atSeq: 1, filter: {} })).rejects.toThrow(RangeError);
    await log.close();
    expect(readdirSync(dir)).toEqual(["history"]);
    const again = await openPgliteInWorker(dataDir);
    expect((await again.lookupPixel("c", 1, 2, 10)).map((p) => [p.seq, p.userId, p.previousColor])).toEqual([[1, "u", 4]]);
    await again.close();
  }, 180_000);
});
