import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ServerFrameSchema } from "../../../gen/pixel/v1/realtime_pb.js";
import { ManualTickClock } from "../test-support/manual-tick-clock.js";
import { publishedBatch, RecordingMember } from "../test-support/test-helpers.js";
import { batchFrame } from "../../../protocol/server-frames.js";
import { RingEntry } from "./batch-ring.js";
import { RoomFanout, touchesWatched, type PendingBatch } from "./room-fanout.js";

function pending(seq: bigint, tiles: number[]): PendingBatch {
  return { seq, entry: new RingEntry(batchFrame(publishedBatch(seq, [{ x: 0, y: 0, color: 1 }])), tiles), pixelCount: 1, timeUnixMs: 0n };
}

function setup() {
  const members = new Set<RecordingMember>();
  const frames: { batches: number; sockets: number }[] = [];
  const clock = new ManualTickClock();
  const fanout = new RoomFanout(members, { fanoutMicrosPerMember: 0, fanoutTickMaxMs: 0 }, { fannedOut: () => undefined, sentFrame: (batches, sockets) => frames.push({ batches, sockets }) }, clock);
  const join = (m: RecordingMember, tiles: number[]) => {
    members.add(m);
    fanout.watch(m, new Set(tiles));
    return m;
  };
  const member = (...tiles: number[]) => join(new RecordingMember(), tiles);
  /** A member that speaks pixel protocol 4 (PixelBatch.columns). */
  const columnsMember = (...tiles: number[]) => join(new RecordingMember("", true), tiles);
  return { fanout, frames, member, columnsMember, clock };
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

  it("sends protocol 4 members the batches with PixelBatch.columns and the others with pixels, one encoding per form", () => {
    const { fanout, frames, member, columnsMember } = setup();
    const old = member(0);
    const columns = columnsMember(0);
    const columns2 = columnsMember(0);
    fanout.add(pending(1n, [0]));
    fanout.add(pending(2n, [0]));
    fanout.flush();
    const batchesOf = (m: RecordingMember) => {
      const f = fromBinary(ServerFrameSchema, m.frames[0]!).frame;
      return f.case === "batches" ? f.value.batches : [];
    };
    expect(batchesOf(old).map((b) => [b.seq, b.pixels.length, b.columns])).toEqual([[1n, 1, undefined], [2n, 1, undefined]]);
    expect(batchesOf(columns).map((b) => [b.seq, b.pixels.length, b.columns?.color])).toEqual([[1n, 0, [1]], [2n, 0, [1]]]);
    expect(columns.frames[0]).toBe(columns2.frames[0]);
    expect(frames).toEqual([{ batches: 2, sockets: 1 }, { batches: 2, sockets: 2 }]);
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
