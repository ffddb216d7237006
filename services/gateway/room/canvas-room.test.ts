import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it, vi } from "vitest";
import { ServerFrameSchema } from "../../../gen/pixel/v1/realtime_pb.js";
import type { CanvasSnapshot } from "../upstream/canvas-client.js";
import { CanvasRoom, type RoomHooks, type RoomOptions, type RoomSnapshot } from "./canvas-room.js";
import { ManualTickClock } from "../test-support/manual-tick-clock.js";
import { batchFrame } from "../../../protocol/server-frames.js";
import { blankSnapshot, publishedBatch, quietLog, RecordingMember } from "../test-support/test-helpers.js";

const options: RoomOptions = {
  ringMaxBatches: 4,
  ringMaxBytes: 1 << 20,
  backlogMaxBatches: 100,
  maxPixelsPerPlace: 1000,
  pixelsPerSecond: 200,
  resyncRetryMs: 5,
  fanoutMicrosPerMember: 1000,
  fanoutTickMaxMs: 20,
};

function makeRoom(snapshots: (RoomSnapshot | Error)[]) {
  const resyncs: string[] = [];
  const fanouts: { pixels: number; sockets: number }[] = [];
  const frames: { batches: number; sockets: number }[] = [];
  const hooks: RoomHooks = {
    fannedOut: (pixels, sockets) => fanouts.push({ pixels, sockets }),
    sentFrame: (batches, sockets) => frames.push({ batches, sockets }),
    resynced: (r) => resyncs.push(r),
  };
  const snapshot = vi.fn(async () => {
    const next = snapshots.length > 1 ? snapshots.shift()! : snapshots[0]!;
    if (next instanceof Error) throw next;
    return { ...next, pixels: next.pixels.slice() };
  });
  const clock = new ManualTickClock();
  const room = new CanvasRoom("default", snapshot, options, hooks, quietLog, clock);
  return { room, snapshot, resyncs, fanouts, frames, clock };
}

/** The seqs of the batches in one `batch` or `batches` frame. */
function seqsIn(frame: Uint8Array): bigint[] {
  const f = fromBinary(ServerFrameSchema, frame).frame;
  if (f.case === "batch") return [f.value.seq];
  if (f.case === "batches") return f.value.batches.map((b) => b.seq);
  throw new Error(`expected a batch frame, got ${f.case}`);
}

function welcomeOf(frame: Uint8Array | undefined) {
  const f = fromBinary(ServerFrameSchema, frame!).frame;
  if (f.case !== "welcome") throw new Error(`expected welcome, got ${f.case}`);
  return f.value;
}

describe("CanvasRoom", () => {
  it("applies batches in order to its canvas and fans each out once as the same buffer", async () => {
    const { room, fanouts, clock } = makeRoom([blankSnapshot(4, 3, 10n)]);
    await room.load();
    const a = new RecordingMember();
    const b = new RecordingMember();
    room.join(a, "a", 0n, 0n);
    room.join(b, "b", 0n, 0n);
    room.onBatch(publishedBatch(11n, [{ x: 1, y: 2, color: 0x112233 }]));
    clock.runSoon();
    room.onBatch(publishedBatch(12n, [{ x: 3, y: 0, color: 0xffffff }, { x: 1, y: 2, color: 0x445566 }]));
    expect(room.seq).toBe(12n);
    clock.advance(20);
    expect(a.batchSeqs()).toEqual([11n, 12n]);
    expect(b.batchSeqs()).toEqual([11n, 12n]);
    expect(a.frames[0]).toBe(b.frames[0]);
    expect(fanouts).toEqual([{ pixels: 1, sockets: 2 }, { pixels: 2, sockets: 2 }]);
    const welcome = welcomeOf(room.welcomeFor(new RecordingMember(), "c"));
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
    room.flush();
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
    // The missed batches come coalesced into one frame.
    expect(resumed.replay.map(seqsIn)).toEqual([[4n, 5n, 6n]]);
    expect(room.join(new RecordingMember(), "e", 2n, 1n)).toMatchObject({ resumed: true });
    expect(room.join(new RecordingMember(), "u", 6n, 1n).replay).toEqual([]);
    const tooOld = room.join(new RecordingMember(), "o", 1n, 1n);
    expect(tooOld.resumed).toBe(false);
    expect(welcomeOf(tooOld.welcome)).toMatchObject({ resumed: false, seq: 6n });
    expect(room.join(new RecordingMember(), "x", 5n, 2n).resumed).toBe(false);
    expect(room.join(new RecordingMember(), "y", 7n, 1n).resumed).toBe(false);
  });

  it("seeds the ring from the snapshot's history, so a client from another gateway resumes at once", async () => {
    const history = [7n, 8n, 9n, 10n].map((s) => publishedBatch(s, [{ x: 1, y: 0, color: Number(s) }]));
    const { room } = makeRoom([{ ...blankSnapshot(2, 2, 10n), history }]);
    room.onBatch(publishedBatch(11n, [{ x: 0, y: 1, color: 11 }]));
    await room.load();
    // The ring holds 4 batches (8..11 after the backlog's 11): last_seq 7..11 resume.
    const resumed = room.join(new RecordingMember(), "r", 7n, 1n);
    expect(resumed.resumed).toBe(true);
    expect(resumed.replay.map(seqsIn)).toEqual([[8n, 9n, 10n, 11n]]);
    expect(room.join(new RecordingMember(), "o", 6n, 1n).resumed).toBe(false);
  });

  it("ignores history that does not end at the snapshot's seq, skips a seq, or is of another epoch", async () => {
    const cases: Uint8Array[][] = [
      [8n, 9n].map((s) => publishedBatch(s, [])),
      [8n, 10n].map((s) => publishedBatch(s, [])),
      [9n, 10n].map((s) => publishedBatch(s, [], 2n)),
    ];
    for (const history of cases) {
      const { room } = makeRoom([{ ...blankSnapshot(2, 2, 10n), history }]);
      await room.load();
      expect(room.live).toBe(true);
      expect(room.join(new RecordingMember(), "m", 9n, 1n).resumed).toBe(false);
    }
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
    // What was applied before the gap went out at once, ahead of the reset.
    expect(m.batchSeqs()).toEqual([11n]);
    room.onBatch(publishedBatch(14n, [{ x: 1, y: 1, color: 0x010203 }]));
    await vi.waitFor(() => expect(room.live).toBe(true));
    expect(snapshot).toHaveBeenCalledTimes(2);
    expect(resyncs).toEqual(["gap"]);
    expect(m.resets).toBe(1);
    expect(m.batchSeqs()).toEqual([11n]);
    expect(room.seq).toBe(14n);
    const w = welcomeOf(room.welcomeFor(m, "m"));
    expect(w.pixels[0]).toBe(0xab);
    expect([...w.pixels.subarray(9, 12)]).toEqual([1, 2, 3]);
    room.onBatch(publishedBatch(15n, [{ x: 0, y: 1, color: 5 }]));
    room.flush();
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

describe("CanvasRoom fan-out coalescing", () => {
  it("sends the batches of one turn as one frame, the same buffer to every member, and a lone batch as today's bytes", async () => {
    const { room, clock, frames, fanouts } = makeRoom([blankSnapshot(4, 4, 10n)]);
    await room.load();
    const a = new RecordingMember();
    const b = new RecordingMember();
    room.join(a, "a", 0n, 0n);
    room.join(b, "b", 0n, 0n);
    for (let s = 11n; s <= 13n; s++) room.onBatch(publishedBatch(s, [{ x: Number(s) % 4, y: 1, color: Number(s) }]));
    expect(room.seq).toBe(13n);
    expect(a.frames).toHaveLength(0);
    clock.runSoon();
    expect(a.frames).toHaveLength(1);
    expect(a.frames[0]).toBe(b.frames[0]);
    expect(seqsIn(a.frames[0]!)).toEqual([11n, 12n, 13n]);
    expect(frames).toEqual([{ batches: 3, sockets: 2 }]);
    expect(fanouts).toEqual([1, 2, 3].map(() => ({ pixels: 1, sockets: 2 })));
    clock.advance(20);
    const lone = publishedBatch(14n, [{ x: 0, y: 0, color: 7 }]);
    room.onBatch(lone);
    clock.runSoon();
    expect(Buffer.from(a.frames[1]!).equals(batchFrame(lone))).toBe(true);
    // The ring keeps a frame per batch: a resume from 11 replays 12..14 (coalesced).
    expect(room.join(new RecordingMember(), "r", 11n, 1n).replay.map(seqsIn)).toEqual([[12n, 13n, 14n]]);
  });

  it("flushes at most once per members x fanoutMicrosPerMember, sending what arrived meanwhile in one frame", async () => {
    const { room, clock } = makeRoom([blankSnapshot(4, 4, 10n)]);
    await room.load();
    const a = new RecordingMember();
    room.join(a, "a", 0n, 0n);
    room.join(new RecordingMember(), "b", 0n, 0n); // two members: one flush per 2 ms
    room.onBatch(publishedBatch(11n, [{ x: 0, y: 0, color: 1 }]));
    clock.runSoon();
    clock.advance(0.5);
    room.onBatch(publishedBatch(12n, [{ x: 0, y: 0, color: 2 }]));
    clock.advance(1);
    room.onBatch(publishedBatch(13n, [{ x: 0, y: 0, color: 3 }]));
    clock.advance(0.4);
    expect(a.frames.map(seqsIn)).toEqual([[11n]]);
    clock.advance(0.1);
    expect(a.frames.map(seqsIn)).toEqual([[11n], [12n, 13n]]);
  });

  it("gives a member that joins between a batch being applied and its flush neither a duplicate nor a gap", async () => {
    const { room, clock, frames, fanouts } = makeRoom([blankSnapshot(4, 4, 10n)]);
    await room.load();
    const early = new RecordingMember();
    room.join(early, "e", 0n, 0n);
    room.onBatch(publishedBatch(11n, [{ x: 1, y: 0, color: 1 }]));
    room.onBatch(publishedBatch(12n, [{ x: 2, y: 0, color: 2 }]));
    // Joined with 11 and 12 applied but not yet sent: the snapshot holds them, the resume replays them.
    const fresh = new RecordingMember();
    expect(welcomeOf(room.join(fresh, "f", 0n, 0n).welcome).seq).toBe(12n);
    const resumed = new RecordingMember();
    const joined = room.join(resumed, "r", 10n, 1n);
    expect(joined.replay.map(seqsIn)).toEqual([[11n, 12n]]);
    room.onBatch(publishedBatch(13n, [{ x: 3, y: 0, color: 3 }]));
    const late = new RecordingMember();
    expect(welcomeOf(room.join(late, "l", 0n, 0n).welcome).seq).toBe(13n);
    clock.runSoon();
    expect(early.batchSeqs()).toEqual([11n, 12n, 13n]);
    expect(fresh.batchSeqs()).toEqual([13n]);
    expect(resumed.batchSeqs()).toEqual([13n]);
    expect(late.batchSeqs()).toEqual([]);
    // One frame of three batches to one socket, one frame of batch 13 alone (encoded once) to two.
    expect(frames).toEqual([{ batches: 3, sockets: 1 }, { batches: 1, sockets: 2 }]);
    expect(fresh.frames[0]).toBe(resumed.frames[0]);
    expect(fanouts.map((f) => f.sockets)).toEqual([1, 1, 3]);
    // The next flush goes to everyone alike again.
    clock.advance(20);
    room.onBatch(publishedBatch(14n, [{ x: 0, y: 1, color: 4 }]));
    clock.runSoon();
    for (const m of [early, fresh, resumed, late]) expect(m.batchSeqs().at(-1)).toBe(14n);
    expect(frames.at(-1)).toEqual({ batches: 1, sockets: 4 });
  });

  it("skips pending batches a member's fresh Welcome already holds (a slow consumer caught up mid-tick)", async () => {
    const { room, clock } = makeRoom([blankSnapshot(4, 4, 10n)]);
    await room.load();
    const slow = new RecordingMember();
    const other = new RecordingMember();
    room.join(slow, "s", 0n, 0n);
    room.join(other, "o", 0n, 0n);
    room.onBatch(publishedBatch(11n, [{ x: 1, y: 0, color: 1 }]));
    expect(welcomeOf(room.welcomeFor(slow, "s")).seq).toBe(11n);
    clock.runSoon();
    expect(slow.batchSeqs()).toEqual([]);
    expect(other.batchSeqs()).toEqual([11n]);
  });

  it("sends nothing pending after dispose, and nothing to a member that left", async () => {
    const { room, clock } = makeRoom([blankSnapshot(4, 4, 10n)]);
    await room.load();
    const gone = new RecordingMember();
    const stays = new RecordingMember();
    room.join(gone, "g", 0n, 0n);
    room.join(stays, "s", 0n, 0n);
    room.onBatch(publishedBatch(11n, [{ x: 1, y: 0, color: 1 }]));
    room.leave(gone);
    clock.runSoon();
    expect(gone.frames).toHaveLength(0);
    expect(stays.batchSeqs()).toEqual([11n]);
    clock.advance(20);
    room.onBatch(publishedBatch(12n, [{ x: 1, y: 0, color: 2 }]));
    room.dispose();
    clock.advance(100);
    expect(stays.batchSeqs()).toEqual([11n]);
    expect(clock.waiting).toBe(0);
  });

  it("with the real event loop, batches delivered in one turn go out together right after it", async () => {
    const room = new CanvasRoom("default", async () => blankSnapshot(4, 4, 10n), options, { fannedOut: () => undefined, resynced: () => undefined }, quietLog);
    await room.load();
    const m = new RecordingMember();
    room.join(m, "m", 0n, 0n);
    for (let s = 11n; s <= 14n; s++) room.onBatch(publishedBatch(s, [{ x: 0, y: 0, color: Number(s) }]));
    expect(m.frames).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(m.frames.map(seqsIn)).toEqual([[11n, 12n, 13n, 14n]]);
    room.dispose();
  });
});
