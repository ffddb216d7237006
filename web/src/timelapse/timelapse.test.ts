import { describe, expect, it } from "vitest";
import type { Rect } from "../protocol/rect.js";
import { DIRTY_TILE, MIN_KEYFRAME_INTERVAL, TimelapseFrame } from "./frame.js";
import { loadTimeline } from "./loader.js";
import { TimelapsePlayback } from "./playback.js";
import { fakeHistory, placementsPage, replay, type FakeHistory } from "./test-support/fake-history.js";
import { batchesUpToSeq, pixelToRgb, placementsAfter, rgbToPixel, TimelineBuilder, type Timeline } from "./timeline.js";
import { mulberry32 } from "../../../tools/prng.js";

function timelineOf(h: FakeHistory): Timeline {
  const builder = new TimelineBuilder(placementsPage(h, 0n, Infinity));
  builder.add(placementsPage(h, 0n, Infinity));
  return builder.build();
}

function rgbOf(frame: TimelapseFrame): Uint32Array {
  return frame.pixels.map(pixelToRgb);
}

describe("the timelapse", () => {
  it("packs colours as little-endian RGBA pixels and back", () => {
    expect(rgbToPixel(0x112233)).toBe(0xff332211);
    expect(pixelToRgb(0xff332211)).toBe(0x112233);
  });

  it("loads every page of placements, and stops at the archived seq of the first answer", async () => {
    const h = fakeHistory(20, 10, 300, 50);
    const asked: bigint[] = [];
    const progress: number[] = [];
    const timeline = await loadTimeline(
      {
        getPlacements: async (req) => {
          asked.push(req.afterSeq ?? 0n);
          return placementsPage(h, req.afterSeq ?? 0n, 1000);
        },
      },
      "c",
      (n) => progress.push(n),
    );
    expect(timeline.batches).toBe(300);
    expect(timeline.count).toBe(h.batches.reduce((n, b) => n + b.batch!.pixels.length, 0));
    expect(asked.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toBe(timeline.count);
    expect(batchesUpToSeq(timeline, 150)).toBe(150);
  });

  it("shows at every position exactly what replaying the batches up to it shows, whichever way it got there", () => {
    // Enough placements for several keyframes, on a canvas of a few dirty tiles.
    const h = fakeHistory(150, 70, 2600, 100, 7);
    const timeline = timelineOf(h);
    expect(timeline.count).toBeGreaterThan(MIN_KEYFRAME_INTERVAL * 2);
    const frame = new TimelapseFrame(timeline);
    const playback = new TimelapsePlayback(timeline, frame);
    const random = mulberry32(3);
    for (let i = 0; i < 40; i++) {
      // Long jumps (keyframes), short steps both ways (replay and revert).
      const b = i % 2 === 0 ? Math.floor(random() * (timeline.batches + 1)) : Math.max(0, Math.min(timeline.batches, playback.batch + Math.floor(random() * 41) - 20));
      playback.seekBatches(b);
      expect(frame.position).toBe(placementsAfter(timeline, b));
      expect(rgbOf(frame)).toEqual(replay(h, b));
    }
  });

  it("uploads exactly the tiles that changed, and those off screen once they are on screen", () => {
    const h = fakeHistory(200, 130, 400, 30, 11);
    const timeline = timelineOf(h);
    const frame = new TimelapseFrame(timeline);
    const screen = new Uint32Array(frame.pixels.length);
    const put = (r: Rect): void => {
      for (let y = r.y; y < r.y + r.height; y++) screen.set(frame.pixels.subarray(y * 200 + r.x, y * 200 + r.x + r.width), y * 200 + r.x);
    };
    const all = { x: 0, y: 0, width: 200, height: 130 };
    frame.flush(all, put);
    expect(screen).toEqual(frame.pixels);

    const playback = new TimelapsePlayback(timeline, frame);
    for (const b of [1, 2, 10, 9, 300, 40, 400, 0]) {
      playback.seekBatches(b);
      // A view of the top-left tile only: elsewhere the screen copy may be stale...
      frame.flush({ x: 0, y: 0, width: DIRTY_TILE, height: DIRTY_TILE }, put);
      for (let y = 0; y < DIRTY_TILE; y++) expect(screen.subarray(y * 200, y * 200 + DIRTY_TILE)).toEqual(frame.pixels.subarray(y * 200, y * 200 + DIRTY_TILE));
    }
    // ...until the whole canvas is in view.
    frame.flush(all, put);
    expect(screen).toEqual(frame.pixels);
    // A single placement dirties one tile, not the view.
    playback.seekBatches(0);
    frame.flush(all, put);
    const one = h.batches.findIndex((b) => b.batch!.pixels.length === 1);
    playback.seekBatches(one);
    frame.flush(all, () => undefined);
    playback.seekBatches(one + 1);
    const puts: Rect[] = [];
    frame.flush(all, (r) => puts.push(r));
    expect(puts).toHaveLength(1);
    expect(puts[0]!.width * puts[0]!.height).toBeLessThanOrEqual(DIRTY_TILE * DIRTY_TILE);
  });

  it("plays at the chosen speed and stops at the end", () => {
    // One batch a second of canvas time.
    const h = fakeHistory(10, 10, 100, 3);
    const timeline = timelineOf(h);
    const playback = new TimelapsePlayback(timeline, new TimelapseFrame(timeline));
    playback.play();
    playback.tick(0);
    expect(playback.batch).toBe(1);
    playback.speed = 10;
    for (let i = 0; i < 10; i++) playback.tick(100);
    expect(playback.batch).toBe(11);
    expect(playback.seq).toBe(11);
    playback.speed = 1000;
    for (let i = 0; i < 10; i++) playback.tick(16);
    expect(playback.playing).toBe(false);
    expect(playback.batch).toBe(100);
    // Play again starts over.
    playback.play();
    playback.tick(0);
    expect(playback.batch).toBe(1);
  });

  it("refuses a canvas too big to play and a batch whose previous colours do not match its pixels", () => {
    const h = fakeHistory(10, 10, 2, 3);
    const huge = placementsPage(h, 0n, 10);
    huge.width = 100_000;
    huge.height = 100_000;
    expect(() => new TimelineBuilder(huge)).toThrow(/at most/);
    const page = placementsPage(h, 0n, 10);
    page.batches[0]!.previousColors = new Uint8Array(1);
    expect(() => new TimelineBuilder(page).add(page)).toThrow(/previous colours/);
  });
});
