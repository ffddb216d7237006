import { describe, expect, it } from "vitest";
import { ManualTickClock } from "../test-support/manual-tick-clock.js";
import { publishedBatch, RecordingMember } from "../test-support/test-helpers.js";
import { batchFrame } from "../../../protocol/server-frames.js";
import { RoomFanout, touchesWatched, type PendingBatch } from "./room-fanout.js";

function pending(seq: bigint, tiles: number[]): PendingBatch {
  return { seq, frame: batchFrame(publishedBatch(seq, [{ x: 0, y: 0, color: 1 }])), tiles, pixelCount: 1, timeUnixMs: 0n };
}

function setup() {
  const members = new Set<RecordingMember>();
  const frames: { batches: number; sockets: number }[] = [];
  const clock = new ManualTickClock();
  const fanout = new RoomFanout(members, { fanoutMicrosPerMember: 0, fanoutTickMaxMs: 0 }, { fannedOut: () => undefined, sentFrame: (batches, sockets) => frames.push({ batches, sockets }) }, clock);
  const member = (...tiles: number[]) => {
    const m = new RecordingMember();
    members.add(m);
    fanout.watch(m, new Set(tiles));
    return m;
  };
  return { fanout, frames, member, clock };
}

describe("RoomFanout audiences", () => {
  it("tells whether a batch touches a watched tile", () => {
    expect(touchesWatched([3, 7], new Set([7]))).toBe(true);
    expect(touchesWatched([3, 7], new Set([1, 2]))).toBe(false);
    expect(touchesWatched([3], new Set())).toBe(false);
  });

  it("groups members by the subset of the flush's batches they watch and encodes each subset once", () => {
    const { fanout, frames, member } = setup();
    const a1 = member(0);
    const a2 = member(0);
    const b = member(1);
    const all = member(0, 1);
    const none = member(5);
    fanout.add(pending(1n, [0]));
    fanout.add(pending(2n, [1]));
    fanout.add(pending(3n, [0, 1]));
    fanout.flush();
    expect(a1.batchSeqs()).toEqual([1n, 3n]);
    expect(a1.frames[0]).toBe(a2.frames[0]);
    expect(b.batchSeqs()).toEqual([2n, 3n]);
    expect(all.batchSeqs()).toEqual([1n, 2n, 3n]);
    expect(none.frames).toEqual([]);
    // Three distinct subsets: three encodings for four sockets.
    expect(frames).toEqual([
      { batches: 2, sockets: 2 },
      { batches: 2, sockets: 1 },
      { batches: 3, sockets: 1 },
    ]);
  });

  it("queues nothing while nobody watches, and flushes pending batches under the old sets before a watch changes", () => {
    const { fanout, member } = setup();
    fanout.add(pending(1n, [0]));
    expect(fanout.pendingCount).toBe(0);
    const m = member(0);
    fanout.add(pending(2n, [0]));
    fanout.watch(m, new Set([1]));
    expect(m.batchSeqs()).toEqual([2n]);
    fanout.add(pending(3n, [0]));
    fanout.add(pending(4n, [1]));
    fanout.flush();
    expect(m.batchSeqs()).toEqual([2n, 4n]);
  });
});
