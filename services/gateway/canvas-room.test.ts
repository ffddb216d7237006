import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it, vi } from "vitest";
import { ServerFrameSchema } from "../../gen/pixel/v1/realtime_pb.js";
import type { CanvasSnapshot } from "./canvas-client.js";
import { CanvasRoom, type RoomHooks, type RoomOptions } from "./canvas-room.js";
import { blankSnapshot, publishedBatch, quietLog, RecordingMember } from "./test-helpers.js";

const options: RoomOptions = { ringMaxBatches: 4, ringMaxBytes: 1 << 20, backlogMaxBatches: 100, maxPixelsPerPlace: 1000, pixelsPerSecond: 200, resyncRetryMs: 5 };

function makeRoom(snapshots: (CanvasSnapshot | Error)[]) {
  const resyncs: string[] = [];
  const fanouts: { pixels: number; sockets: number }[] = [];
  const hooks: RoomHooks = { fannedOut: (pixels, sockets) => fanouts.push({ pixels, sockets }), resynced: (r) => resyncs.push(r) };
  const snapshot = vi.fn(async () => {
    const next = snapshots.length > 1 ? snapshots.shift()! : snapshots[0]!;
    if (next instanceof Error) throw next;
    return { ...next, pixels: next.pixels.slice() };
  });
  const room = new CanvasRoom("default", snapshot, options, hooks, quietLog);
  return { room, snapshot, resyncs, fanouts };
}

function welcomeOf(frame: Uint8Array | undefined) {
  const f = fromBinary(ServerFrameSchema, frame!).frame;
  if (f.case !== "welcome") throw new Error(`expected welcome, got ${f.case}`);
  return f.value;
}

describe("CanvasRoom", () => {
  it("applies batches in order to its canvas and fans each out once as the same buffer", async () => {
    const { room, fanouts } = makeRoom([blankSnapshot(4, 3, 10n)]);
    await room.load();
    const a = new RecordingMember();
    const b = new RecordingMember();
    room.join(a, "a", 0n, 0n);
    room.join(b, "b", 0n, 0n);
    room.onBatch(publishedBatch(11n, [{ x: 1, y: 2, color: 0x112233 }]));
    room.onBatch(publishedBatch(12n, [{ x: 3, y: 0, color: 0xffffff }, { x: 1, y: 2, color: 0x445566 }]));
    expect(room.seq).toBe(12n);
    expect(a.batchSeqs()).toEqual([11n, 12n]);
    expect(b.batchSeqs()).toEqual([11n, 12n]);
    expect(a.frames[0]).toBe(b.frames[0]);
    expect(fanouts).toEqual([{ pixels: 1, sockets: 2 }, { pixels: 2, sockets: 2 }]);
    const welcome = welcomeOf(room.welcomeFor("c"));
    expect(welcome.seq).toBe(12n);
    const px = (x: number, y: number) => [...welcome.pixels.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)];
    expect(px(1, 2)).toEqual([0x44, 0x55, 0x66]);
    expect(px(3, 0)).toEqual([0xff, 0xff, 0xff]);
    expect(px(0, 0)).toEqual([0, 0, 0]);
  });

  it("drops duplicates and batches at or below the snapshot seq", async () => {
    const { room } = makeRoom([blankSnapshot(2, 2, 5n)]);
    await room.load();
    const m = new RecordingMember();
    room.join(m, "m", 0n, 0n);
    room.onBatch(publishedBatch(4n, [{ x: 0, y: 0, color: 1 }]));
    room.onBatch(publishedBatch(5n, [{ x: 0, y: 0, color: 1 }]));
    room.onBatch(publishedBatch(6n, [{ x: 0, y: 0, color: 2 }]));
    room.onBatch(publishedBatch(6n, [{ x: 0, y: 0, color: 2 }]));
    expect(m.batchSeqs()).toEqual([6n]);
  });

  it("buffers batches published while the first snapshot loads and keeps only those after it", async () => {
    let release!: (s: CanvasSnapshot) => void;
    const snapshot = () => new Promise<CanvasSnapshot>((r) => (release = r));
    const room = new CanvasRoom("default", snapshot, options, { fannedOut: () => undefined, resynced: () => undefined }, quietLog);
    const loaded = room.load();
    room.onBatch(publishedBatch(3n, [{ x: 0, y: 0, color: 3 }]));
    room.onBatch(publishedBatch(4n, [{ x: 1, y: 0, color: 4 }]));
    release(blankSnapshot(2, 1, 3n));
    await loaded;
    expect(room.live).toBe(true);
    expect(room.seq).toBe(4n);
    const m = new RecordingMember();
    // Resuming from the snapshot seq replays exactly batch 4.
    const joined = room.join(m, "m", 3n, 1n);
    expect(joined.resumed).toBe(true);
    expect(joined.replay.map((f) => fromBinary(ServerFrameSchema, f).frame.value)).toMatchObject([{ seq: 4n }]);
  });

  it("resumes a client covered by the ring and sends a full snapshot to one that is not", async () => {
    const { room } = makeRoom([blankSnapshot(2, 2, 0n)]);
    await room.load();
    for (let s = 1n; s <= 6n; s++) room.onBatch(publishedBatch(s, [{ x: 0, y: 0, color: Number(s) }]));
    // Ring holds 4 batches: 3..6, so last_seq 2..6 resume.
    const resumed = room.join(new RecordingMember(), "r", 3n, 1n);
    expect(resumed.resumed).toBe(true);
    const welcome = welcomeOf(resumed.welcome);
    expect(welcome).toMatchObject({ resumed: true, seq: 3n, connectionId: "r" });
    expect(welcome.pixels.length).toBe(0);
    expect(resumed.replay.map((f) => fromBinary(ServerFrameSchema, f).frame.value)).toMatchObject([{ seq: 4n }, { seq: 5n }, { seq: 6n }]);
    expect(room.join(new RecordingMember(), "e", 2n, 1n)).toMatchObject({ resumed: true });
    expect(room.join(new RecordingMember(), "u", 6n, 1n).replay).toEqual([]);
    const tooOld = room.join(new RecordingMember(), "o", 1n, 1n);
    expect(tooOld.resumed).toBe(false);
    expect(welcomeOf(tooOld.welcome)).toMatchObject({ resumed: false, seq: 6n });
    expect(room.join(new RecordingMember(), "x", 5n, 2n).resumed).toBe(false);
    expect(room.join(new RecordingMember(), "y", 7n, 1n).resumed).toBe(false);
  });

  it("re-snapshots on a seq gap, applies what followed, and resets every member", async () => {
    const after = blankSnapshot(2, 2, 13n);
    after.pixels[0] = 0xab;
    const { room, snapshot, resyncs } = makeRoom([blankSnapshot(2, 2, 10n), after]);
    await room.load();
    const m = new RecordingMember();
    room.join(m, "m", 0n, 0n);
    room.onBatch(publishedBatch(11n, [{ x: 0, y: 0, color: 1 }]));
    room.onBatch(publishedBatch(13n, [{ x: 1, y: 0, color: 2 }])); // 12 was lost
    expect(room.live).toBe(false);
    room.onBatch(publishedBatch(14n, [{ x: 1, y: 1, color: 0x010203 }]));
    await vi.waitFor(() => expect(room.live).toBe(true));
    expect(snapshot).toHaveBeenCalledTimes(2);
    expect(resyncs).toEqual(["gap"]);
    expect(m.resets).toBe(1);
    expect(m.batchSeqs()).toEqual([11n]);
    expect(room.seq).toBe(14n);
    const w = welcomeOf(room.welcomeFor("m"));
    expect(w.pixels[0]).toBe(0xab);
    expect([...w.pixels.subarray(9, 12)]).toEqual([1, 2, 3]);
    room.onBatch(publishedBatch(15n, [{ x: 0, y: 1, color: 5 }]));
    expect(m.batchSeqs()).toEqual([11n, 15n]);
  });

  it("re-snapshots on an epoch change and retries a failing snapshot", async () => {
    const { room, resyncs, snapshot } = makeRoom([blankSnapshot(2, 2, 10n), new Error("canvas down"), blankSnapshot(2, 2, 1n, 2n)]);
    await room.load();
    const m = new RecordingMember();
    room.join(m, "m", 0n, 0n);
    room.onBatch(publishedBatch(1n, [{ x: 0, y: 0, color: 7 }], 2n));
    await vi.waitFor(() => expect(room.live).toBe(true));
    expect(snapshot).toHaveBeenCalledTimes(3);
    expect(resyncs).toEqual(["epoch"]);
    expect(room.epoch).toBe(2n);
    expect(room.seq).toBe(1n);
    expect(m.resets).toBe(1);
  });

  it("gives a member joining mid-resync its Welcome through the reset", async () => {
    const { room } = makeRoom([blankSnapshot(2, 2, 1n), blankSnapshot(2, 2, 5n)]);
    await room.load();
    room.requestResync("bus_reconnect");
    const m = new RecordingMember();
    expect(room.join(m, "m", 0n, 0n).welcome).toBeUndefined();
    await vi.waitFor(() => expect(m.resets).toBe(1));
    expect(room.seq).toBe(5n);
  });
});
