import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LogIncompleteError, type LogBatch, type LogRun, type PlacementKind, type PlacementLog } from "../placement-log.js";

/** How the contract reaches one implementation. */
export interface PlacementLogHarness {
  /** Empties the backing database, run before each case. */
  clear(): Promise<void>;
  /** Opens a log on the backing database: logs opened within one case see the same rows once the previous one is closed. */
  open(): Promise<PlacementLog>;
}

const EPOCH = 1_700_000_000_000;
const T0 = 1_800_000_000_000;

/** A batch of canvas "c" at `seq`: pixels as [x, y, colour, previous colour], one run per user given. */
function batch(seq: number, pixels: [number, number, number, number][], runs: LogRun[] = [], options: { kind?: PlacementKind; epoch?: number; canvasId?: string; author?: string } = {}): LogBatch {
  return {
    canvasId: options.canvasId ?? "c",
    epoch: options.epoch ?? EPOCH,
    seq,
    timeMs: T0 + seq * 1000,
    kind: options.kind ?? "place",
    author: options.author ?? runs[0]?.name ?? "",
    pixels: pixels.map(([x, y, color, previousColor]) => ({ x, y, color, previousColor })),
    runs,
  };
}

const run = (userId: string, pixelCount: number, name = userId.toUpperCase()): LogRun => ({ userId, name, pixelCount });

/**
 * The rules every PlacementLog keeps (placement-log.ts), as one suite each implementation's test
 * runs with its own harness: PostgreSQL and PGlite pass the same cases.
 */
export function describePlacementLogContract(name: string, harness: PlacementLogHarness): void {
  describe(`${name} keeps the PlacementLog contract`, () => {
    const opened: PlacementLog[] = [];
    const open = async () => {
      const log = await harness.open();
      opened.push(log);
      return log;
    };
    beforeEach(() => harness.clear());
    afterEach(async () => {
      for (const log of opened.splice(0)) await log.close();
    });

    it("appends each (canvas, epoch, seq) once, however often it is appended, and keeps it across a reopen", async () => {
      const log = await open();
      expect(await log.lastArchived("c")).toBeUndefined();
      const b = [1, 2, 3, 4].map((s) => batch(s, [[s, 0, s, 0xffffff]], [run("u1", 1)]));
      expect(await log.append(b.slice(0, 3))).toBe(3);
      expect(await log.append(b.slice(1))).toBe(1);
      expect(await Promise.all([log.append(b), log.append(b)])).toEqual([0, 0]);
      expect(await log.append([batch(1, [[0, 0, 0, 0]], [], { canvasId: "other" })])).toBe(1);
      await log.close();
      opened.splice(0);
      const again = await open();
      expect(await again.lastArchived("c")).toEqual({ epoch: EPOCH, seq: 4 });
      const page = await again.batches("c", EPOCH, 0, 1000);
      expect(page.batches).toEqual(b);
      expect([page.archivedSeq, page.firstSeq, page.firstTimeMs, page.archivedTimeMs, page.gaps]).toEqual([4, 1, T0 + 1000, T0 + 4000, []]);
      expect((await again.lookupPixel("c", 2, 0, 10)).map((p) => p.seq)).toEqual([2]);
    });

    it("pages batches whole, in seq order, by pixel count, with runs, kinds and authors of pixels after the last run", async () => {
      const log = await open();
      const b1 = batch(1, [[0, 0, 1, 9], [1, 0, 2, 9], [2, 0, 3, 9]], [run("u1", 2), run("u2", 1)]);
      const b2 = batch(2, [[0, 0, 4, 1]], [], { author: "tool" });
      const b3 = batch(3, [[0, 0, 1, 4]], [run("u1", 1)], { kind: "undo" });
      await log.append([b1, b2, b3]);
      const first = await log.batches("c", EPOCH, 0, 2);
      expect(first.batches).toEqual([b1]);
      const rest = await log.batches("c", EPOCH, 1, 2);
      expect(rest.batches).toEqual([b2, b3]);
      expect((await log.batches("c", EPOCH, 3, 10)).batches).toEqual([]);
      expect((await log.lookupPixel("c", 0, 0, 1))[0]).toMatchObject({ seq: 3, kind: "undo", userId: "u1" });
      expect((await log.lookupPixel("c", 0, 0, 10))[1]).toMatchObject({ seq: 2, userId: "", name: "tool", revertedBySeq: 3 });
    });

    it("looks a pixel up newest first over epochs: who, when, colour, what was there, and whether an undo or rollback reverted it", async () => {
      const log = await open();
      const later = EPOCH + 5;
      await log.append([
        batch(1, [[3, 4, 0x111111, 0xffffff]], [run("alice", 1)]),
        // Placed twice in one batch: one placement, its last colour and author, the colour before the batch.
        batch(2, [[3, 4, 0x222222, 0x111111], [3, 4, 0x333333, 0x222222]], [run("bob", 1), run("carol", 1)]),
        batch(3, [[3, 4, 0x111111, 0x333333]], [run("admin", 1)], { kind: "rollback" }),
        batch(1, [[3, 4, 0x444444, 0xffffff]], [run("dave", 1)], { epoch: later }),
      ]);
      const found = await log.lookupPixel("c", 3, 4, 10);
      expect(found.map((p) => [p.epoch, p.seq, p.userId, p.name, p.color, p.previousColor, p.kind, p.revertedBySeq, p.timeMs])).toEqual([
        [later, 1, "dave", "DAVE", 0x444444, 0xffffff, "place", 0, T0 + 1000],
        [EPOCH, 3, "admin", "ADMIN", 0x111111, 0x333333, "rollback", 0, T0 + 3000],
        [EPOCH, 2, "carol", "CAROL", 0x333333, 0x111111, "place", 3, T0 + 2000],
        [EPOCH, 1, "alice", "ALICE", 0x111111, 0xffffff, "place", 0, T0 + 1000],
      ]);
      expect((await log.lookupPixel("c", 3, 4, 2)).map((p) => p.seq)).toEqual([1, 3]);
      expect(await log.lookupPixel("c", 4, 3, 10)).toEqual([]);
      expect(await log.lookupPixel("other", 3, 4, 10)).toEqual([]);
    });

    it("records gaps and epochs explicitly: the resume point passes a gap, pages report it, a new epoch resumes at 0", async () => {
      const log = await open();
      await log.append([batch(1, [[0, 0, 1, 0]]), batch(2, [[0, 0, 2, 1]])]);
      await log.recordGap({ canvasId: "c", epoch: EPOCH, fromSeq: 3, toSeq: 6 });
      await log.recordGap({ canvasId: "c", epoch: EPOCH, fromSeq: 3, toSeq: 6 });
      expect(await log.lastArchived("c")).toEqual({ epoch: EPOCH, seq: 6 });
      await log.append([batch(7, [[0, 0, 7, 0]])]);
      const page = await log.batches("c", EPOCH, 1, 100);
      expect([page.batches.map((b) => b.seq), page.gaps, page.archivedSeq]).toEqual([[2, 7], [{ canvasId: "c", epoch: EPOCH, fromSeq: 3, toSeq: 6 }], 7]);
      await log.recordEpoch("c", EPOCH + 1, T0);
      expect(await log.lastArchived("c")).toEqual({ epoch: EPOCH + 1, seq: 0 });
      expect(await log.archivedSeq("c", EPOCH)).toBe(7);
    });

    it("finds the seq at a time, and rebuilds a region at a seq forwards or backwards, refusing when the log has a hole", async () => {
      const log = await open();
      const bg = 0xffffff;
      // 3x2 canvas: seq s paints (s % 3, 0) then (0, 1) with colour s.
      const colours = new Map<string, number>();
      const batches: LogBatch[] = [];
      for (let s = 1; s <= 6; s++) {
        const px: [number, number, number, number][] = [];
        for (const [x, y] of [[s % 3, 0], [0, 1]] as const) {
          px.push([x, y, s, colours.get(`${x},${y}`) ?? bg]);
          colours.set(`${x},${y}`, s);
        }
        batches.push(batch(s, px));
      }
      await log.append(batches);
      expect([await log.seqAtTime("c", EPOCH, T0 + 3500), await log.seqAtTime("c", EPOCH, T0)]).toEqual([3, 0]);
      const rgb = (...c: number[]) => [...c.flatMap((v) => [(v >> 16) & 255, (v >> 8) & 255, v & 255])];
      const rect = { x: 0, y: 0, width: 3, height: 2 };
      const atTwo = rgb(bg, 1, 2, 2, bg, bg);
      expect([...(await log.regionAt({ canvasId: "c", epoch: EPOCH, atSeq: 2, rect, background: bg }))]).toEqual(atTwo);
      const now = new Uint8Array(rgb(6, 4, 5, 6, bg, bg));
      expect([...(await log.regionAt({ canvasId: "c", epoch: EPOCH, atSeq: 5, rect, background: bg, current: { seq: 6, pixels: now } }))]).toEqual(rgb(3, 4, 5, 5, bg, bg));
      expect([...(await log.regionAt({ canvasId: "c", epoch: EPOCH, atSeq: 2, rect: { x: 1, y: 0, width: 2, height: 1 }, background: bg }))]).toEqual(rgb(1, 2));
      // Seq 7 is missing: the canvas at 7 is only known backwards from 8, at 6 only forwards.
      await log.append([batch(8, [[1, 1, 8, bg]])]);
      const at8 = new Uint8Array(rgb(6, 4, 5, 6, 8, bg));
      await expect(log.regionAt({ canvasId: "c", epoch: EPOCH, atSeq: 7, rect, background: bg })).rejects.toThrow(LogIncompleteError);
      expect([...(await log.regionAt({ canvasId: "c", epoch: EPOCH, atSeq: 7, rect, background: bg, current: { seq: 8, pixels: at8 } }))]).toEqual([...now]);
      expect([...(await log.regionAt({ canvasId: "c", epoch: EPOCH, atSeq: 6, rect, background: bg, current: { seq: 8, pixels: at8 } }))]).toEqual([...now]);
    });

    it("plans a rollback: per pixel the colour before the trailing run of matching placements, skipping pixels painted later by others", async () => {
      const log = await open();
      const W = 0xffffff;
      await log.append([
        // good paints (0..3, 0)
        batch(1, [[0, 0, 0xa, W], [1, 0, 0xa, W], [2, 0, 0xa, W], [3, 0, 0xa, W]], [run("good", 4)]),
        // vandal paints over all four and (4, 0)
        batch(2, [[0, 0, 0xbad, 0xa], [1, 0, 0xbad, 0xa], [2, 0, 0xbad, 0xa], [3, 0, 0xbad, 0xa], [4, 0, 0xbad, W]], [run("vandal", 5)]),
        // good repaints (1, 0) over the vandalism
        batch(3, [[1, 0, 0xc, 0xbad]], [run("good", 1)]),
        // vandal again on (2, 0) and (3, 0); (3, 0) painted the colour it already had
        batch(4, [[2, 0, 0xbad2, 0xbad], [3, 0, 0xbad, 0xbad]], [run("vandal", 2, "V2")]),
        // a helper repaints (0, 0) back by hand, then the vandal paints (0, 0) once more
        batch(5, [[0, 0, 0xa, 0xbad]], [run("helper", 1)]),
        batch(6, [[0, 0, 0xbad, 0xa]], [run("vandal", 1)]),
      ]);
      const plan = await log.rollbackPlan({ canvasId: "c", epoch: EPOCH, atSeq: 6, filter: { userId: "vandal" } });
      expect(plan.restore).toEqual([
        { x: 0, y: 0, color: 0xa, expectedColor: 0xbad, lastSeq: 6 },
        { x: 2, y: 0, color: 0xa, expectedColor: 0xbad2, lastSeq: 4 },
        { x: 3, y: 0, color: 0xa, expectedColor: 0xbad, lastSeq: 4 },
        { x: 4, y: 0, color: W, expectedColor: 0xbad, lastSeq: 2 },
      ]);
      expect([plan.placements, plan.skipped, plan.topUsers]).toEqual([8, 1, [{ userId: "vandal", name: "VANDAL", placements: 8 }]]);
      // At seq 3 the vandal's second round is not counted.
      const early = await log.rollbackPlan({ canvasId: "c", epoch: EPOCH, atSeq: 3, filter: { userId: "vandal" } });
      expect([early.restore.map((r) => [r.x, r.color]), early.skipped]).toEqual([[[0, 0xa], [2, 0xa], [3, 0xa], [4, W]], 1]);
      // A rectangle and a time range, ANDed: only seq 4's pixels at x >= 3.
      const narrow = await log.rollbackPlan({ canvasId: "c", epoch: EPOCH, atSeq: 6, filter: { rect: { x: 3, y: 0, width: 5, height: 1 }, fromTimeMs: T0 + 3500, toTimeMs: T0 + 4500 } });
      // (3, 0) would get back the colour it has: nothing to write.
      expect([narrow.placements, narrow.restore, narrow.skipped]).toEqual([1, [], 0]);
      // A seq range and a user nobody matches.
      expect((await log.rollbackPlan({ canvasId: "c", epoch: EPOCH, atSeq: 6, filter: { fromSeq: 3, toSeq: 3 } })).restore).toEqual([{ x: 1, y: 0, color: 0xbad, expectedColor: 0xc, lastSeq: 3 }]);
      expect((await log.rollbackPlan({ canvasId: "c", epoch: EPOCH, atSeq: 6, filter: { userId: "nobody" } })).placements).toBe(0);
      await expect(log.rollbackPlan({ canvasId: "c", epoch: EPOCH, atSeq: 6, filter: {} })).rejects.toThrow(RangeError);
    });

    it("records moderation actions with increasing ids and lists them newest first, by page and by canvas", async () => {
      const log = await open();
      const base = { admin: "ops", targetUserId: "", reason: "vandalism", seqs: [], epoch: 0, pixelsRestored: 0, pixelsSkipped: 0 };
      const a = await log.recordModeration({ ...base, kind: "rollback", canvasId: "c", filter: { userId: "v", rect: { x: 1, y: 2, width: 3, height: 4 } }, seqs: [7, 8], epoch: EPOCH, pixelsRestored: 10, pixelsSkipped: 2 });
      const b = await log.recordModeration({ ...base, kind: "ban", canvasId: "", targetUserId: "v" });
      const c = await log.recordModeration({ ...base, kind: "rollback", canvasId: "d", filter: { fromSeq: 1 } });
      expect(a.id < b.id && b.id < c.id).toBe(true);
      expect(Math.abs(a.timeMs - Date.now())).toBeLessThan(60_000);
      expect((await log.listModeration({ beforeId: 0, limit: 10 })).map((m) => m.id)).toEqual([c.id, b.id, a.id]);
      expect(await log.listModeration({ beforeId: c.id, limit: 1 })).toEqual([b]);
      expect(await log.listModeration({ beforeId: 0, limit: 10, canvasId: "c" })).toEqual([a]);
      expect(await log.sizeOnDisk()).toBeGreaterThan(0);
    });
  });
}
