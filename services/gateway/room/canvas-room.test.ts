import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it, vi } from "vitest";
import { ServerFrameSchema } from "../../../gen/pixel/v1/realtime_pb.js";
import { CanvasRoom, type RoomHooks, type RoomOptions } from "./canvas-room.js";
import { HISTORY_SEED_DELAY_MS, type RoomSnapshot } from "./room-history.js";
import { ManualTickClock } from "../test-support/manual-tick-clock.js";
import { batchFrame } from "../../../protocol/server-frames.js";
import { blankSnapshot, joinWatching, publishedBatch, quietLog, RecordingMember } from "../test-support/test-helpers.js";

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
    return next;
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
  it("follows batches in order and fans each out once as the same buffer", async () => {
    const { room, fanouts, clock } = makeRoom([blankSnapshot(4, 3, 10n)]);
    await room.load();
    const a = new RecordingMember();
    const b = new RecordingMember();
    joinWatching(room, a, "a");
    joinWatching(room, b, "b");
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
    // Protocol 2: where the canvas stands and how it is tiled, never its pixels.
    expect(welcome).toMatchObject({ seq: 12n, width: 4, height: 3, tileSize: 256, levelCount: 1, protocol: 4, resumed: false });
    expect(welcome.pixels.length).toBe(0);
  });

  it("drops duplicates and batches at or below the snapshot seq", async () => {
    const { room } = makeRoom([blankSnapshot(2, 2, 5n)]);
    await room.load();
    const m = new RecordingMember();
    joinWatching(room, m, "m");
    room.onBatch(publishedBatch(4n, [{ x: 0, y: 0, color: 1 }]));
    room.onBatch(publishedBatch(5n, [{ x: 0, y: 0, color: 1 }]));
    room.onBatch(publishedBatch(6n, [{ x: 0, y: 0, color: 2 }]));
    room.onBatch(publishedBatch(6n, [{ x: 0, y: 0, color: 2 }]));
    room.flush();
    expect(m.batchSeqs()).toEqual([6n]);
  });

  it("buffers batches published while the first snapshot loads and keeps only those after it", async () => {
    let release!: (s: RoomSnapshot) => void;
    const snapshot = () => new Promise<RoomSnapshot>((r) => (release = r));
    const room = new CanvasRoom("default", snapshot, options, { fannedOut: () => undefined, resynced: () => undefined }, quietLog);
    const loaded = room.load();
    room.onBatch(publishedBatch(3n, [{ x: 0, y: 0, color: 3 }]));
    room.onBatch(publishedBatch(4n, [{ x: 1, y: 0, color: 4 }]));
    release(blankSnapshot(2, 1, 3n));
    await loaded;
    expect(room.live).toBe(true);
    expect(room.seq).toBe(4n);
    const m = new RecordingMember();
    room.join(m, "m");
    // Resuming from the snapshot seq replays exactly batch 4.
    const watched = room.watch(m, new Set([0]), 3n, 1n);
    expect(watched.replayed).toBe(true);
    expect(watched.replay.map(seqsIn)).toEqual([[4n]]);
  });

  it("replays a Watch's tiles from the ring when it covers after_seq, and asks for a refetch otherwise", async () => {
    const { room } = makeRoom([blankSnapshot(600, 300, 0n)]);
    await room.load();
    // Tile 0 is (0,0); tile 1 is (1,0): x 256..511.
    for (let s = 1n; s <= 6n; s++) room.onBatch(publishedBatch(s, [{ x: s % 2n === 0n ? 300 : 0, y: 0, color: Number(s) }]));
    // The ring holds 4 batches: 3..6, so after_seq 2..6 replay.
    const left = new RecordingMember();
    room.join(left, "l");
    const replayed = room.watch(left, new Set([0]), 2n, 1n);
    expect(replayed).toMatchObject({ replayed: true, seq: 6n, epoch: 1n });
    // Only the batches that touch tile 0 (the odd seqs), coalesced into one frame.
    expect(replayed.replay.map(seqsIn)).toEqual([[3n, 5n]]);
    const both = new RecordingMember();
    room.join(both, "b");
    expect(room.watch(both, new Set([0, 1]), 6n, 1n)).toMatchObject({ replayed: true, replay: [] });
    for (const [afterSeq, afterEpoch] of [[1n, 1n], [5n, 2n], [7n, 1n], [0n, 0n]] as const) {
      expect(room.watch(new RecordingMember(), new Set([0]), afterSeq, afterEpoch)).toMatchObject({ replayed: false, replay: [], seq: 6n });
    }
  });

  it("seeds the ring from the head's history with each batch's tiles, so a client from another gateway resumes at once", async () => {
    // Odd seqs touch tile 0 (x 1), even seqs tile 1 (x 300).
    const history = [7n, 8n, 9n, 10n].map((s) => publishedBatch(s, [{ x: s % 2n === 0n ? 300 : 1, y: 0, color: Number(s) }]));
    const { room } = makeRoom([{ ...blankSnapshot(600, 300, 10n), history }]);
    room.onBatch(publishedBatch(11n, [{ x: 0, y: 1, color: 11 }]));
    await room.load();
    // The ring holds 4 batches (8..11 after the backlog's 11): after_seq 7..11 replay.
    const all = new RecordingMember();
    room.join(all, "a");
    const resumed = room.watch(all, new Set([0, 1]), 7n, 1n);
    expect(resumed.replayed).toBe(true);
    expect(resumed.replay.map(seqsIn)).toEqual([[8n, 9n, 10n, 11n]]);
    const left = new RecordingMember();
    room.join(left, "l");
    expect(room.watch(left, new Set([0]), 7n, 1n).replay.map(seqsIn)).toEqual([[9n, 11n]]);
    expect(room.watch(new RecordingMember(), new Set([0]), 6n, 1n).replayed).toBe(false);
  });

  it("replays to a protocol 4 member in PixelBatch.columns, from seeded history and live batches alike", async () => {
    const history = [9n, 10n].map((s) => publishedBatch(s, [{ x: 1, y: 2, color: Number(s) }]));
    const { room } = makeRoom([{ ...blankSnapshot(600, 300, 10n), history }]);
    await room.load();
    room.onBatch(publishedBatch(11n, [{ x: 3, y: 4, color: 11 }, { x: 5, y: 6, color: 12 }]));
    const member = new RecordingMember("", true);
    room.join(member, "c");
    const [frame] = room.watch(member, new Set([0]), 8n, 1n).replay;
    const f = fromBinary(ServerFrameSchema, frame!).frame;
    const batches = f.case === "batches" ? f.value.batches : [];
    expect(batches.map((b) => [b.seq, b.pixels.length, b.columns?.x, b.columns?.y, b.columns?.color])).toEqual([
      [9n, 0, [1], [2], [9]],
      [10n, 0, [1], [2], [10]],
      [11n, 0, [3, 5], [4, 6], [11, 12]],
    ]);
    // The same ring entries still serve a protocol 3 member with `pixels`.
    const old = new RecordingMember();
    room.join(old, "p");
    const [oldFrame] = room.watch(old, new Set([0]), 8n, 1n).replay;
    const g = fromBinary(ServerFrameSchema, oldFrame!).frame;
    expect(g.case === "batches" ? g.value.batches.map((b) => [b.pixels.length, b.columns]) : []).toEqual([[1, undefined], [1, undefined], [2, undefined]]);
  });

  it("ignores history that does not end at the head's seq, skips a seq, or is of another epoch", async () => {
    const cases: Uint8Array[][] = [
      [8n, 9n].map((s) => publishedBatch(s, [])),
      [8n, 10n].map((s) => publishedBatch(s, [])),
      [9n, 10n].map((s) => publishedBatch(s, [], 2n)),
    ];
    for (const history of cases) {
      const { room } = makeRoom([{ ...blankSnapshot(2, 2, 10n), history }]);
      await room.load();
      expect(room.live).toBe(true);
      const m = new RecordingMember();
      room.join(m, "m");
      expect(room.watch(m, new Set([0]), 9n, 1n).replayed).toBe(false);
    }
  });

  it("re-snapshots on a seq gap, applies what followed, and resets every member", async () => {
    const { room, snapshot, resyncs } = makeRoom([blankSnapshot(2, 2, 10n), blankSnapshot(2, 2, 13n)]);
    await room.load();
    const m = new RecordingMember();
    joinWatching(room, m, "m");
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
    expect(welcomeOf(room.welcomeFor(m, "m")).seq).toBe(14n);
    room.onBatch(publishedBatch(15n, [{ x: 0, y: 1, color: 5 }]));
    room.flush();
    expect(m.batchSeqs()).toEqual([11n, 15n]);
  });

  it("re-snapshots on an epoch change and retries a failing snapshot", async () => {
    const { room, resyncs, snapshot } = makeRoom([blankSnapshot(2, 2, 10n), new Error("canvas down"), blankSnapshot(2, 2, 1n, 2n)]);
    await room.load();
    const m = new RecordingMember();
    joinWatching(room, m, "m");
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
    expect(room.join(m, "m")).toBeUndefined();
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
    joinWatching(room, a, "a");
    joinWatching(room, b, "b");
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
    expect(room.watch(new RecordingMember(), new Set([0]), 11n, 1n).replay.map(seqsIn)).toEqual([[12n, 13n, 14n]]);
  });

  it("flushes at most once per members x fanoutMicrosPerMember, sending what arrived meanwhile in one frame", async () => {
    const { room, clock } = makeRoom([blankSnapshot(4, 4, 10n)]);
    await room.load();
    const a = new RecordingMember();
    joinWatching(room, a, "a");
    joinWatching(room, new RecordingMember(), "b"); // two members: one flush per 2 ms
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

  it("gives a member that starts watching between a batch being applied and its flush neither a duplicate nor a gap", async () => {
    const { room, clock, frames, fanouts } = makeRoom([blankSnapshot(4, 4, 10n)]);
    await room.load();
    const early = new RecordingMember();
    joinWatching(room, early, "e");
    room.onBatch(publishedBatch(11n, [{ x: 1, y: 0, color: 1 }]));
    room.onBatch(publishedBatch(12n, [{ x: 2, y: 0, color: 2 }]));
    // Watching from 12 with 11 and 12 applied but not yet sent: the newcomer's Watch flushes only
    // the newcomer (who watched nothing), so the early member keeps its pace and gets them at the tick.
    const fresh = new RecordingMember();
    expect(welcomeOf(joinWatching(room, fresh, "f")).seq).toBe(12n);
    expect(early.batchSeqs()).toEqual([]);
    room.onBatch(publishedBatch(13n, [{ x: 3, y: 0, color: 3 }]));
    const late = new RecordingMember();
    expect(welcomeOf(joinWatching(room, late, "l")).seq).toBe(13n);
    clock.runSoon();
    expect(early.batchSeqs()).toEqual([11n, 12n, 13n]);
    expect(fresh.batchSeqs()).toEqual([13n]);
    expect(late.batchSeqs()).toEqual([]);
    // One frame per audience of the flush, each the one frame its member got.
    expect(frames).toEqual([{ batches: 3, sockets: 1 }, { batches: 1, sockets: 1 }]);
    expect(early.frames).toHaveLength(1);
    expect(fanouts.map((f) => f.sockets)).toEqual([1, 1, 2]);
    // The next flush goes to everyone alike again.
    clock.advance(20);
    room.onBatch(publishedBatch(14n, [{ x: 0, y: 1, color: 4 }]));
    clock.runSoon();
    for (const m of [early, fresh, late]) expect(m.batchSeqs().at(-1)).toBe(14n);
    expect(frames.at(-1)).toEqual({ batches: 1, sockets: 3 });
  });

  it("skips pending batches a member's fresh Welcome already holds (a slow consumer caught up mid-tick)", async () => {
    const { room, clock } = makeRoom([blankSnapshot(4, 4, 10n)]);
    await room.load();
    const slow = new RecordingMember();
    const other = new RecordingMember();
    joinWatching(room, slow, "s");
    joinWatching(room, other, "o");
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
    joinWatching(room, gone, "g");
    joinWatching(room, stays, "s");
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
    joinWatching(room, m, "m");
    for (let s = 11n; s <= 14n; s++) room.onBatch(publishedBatch(s, [{ x: 0, y: 0, color: Number(s) }]));
    expect(m.frames).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(m.frames.map(seqsIn)).toEqual([[11n, 12n, 13n, 14n]]);
    room.dispose();
  });
});

/** A history read the test resolves when it chooses, as a slow WatchCanvas. */
function heldHistory() {
  let release!: (batches: Uint8Array[]) => void;
  const history = new Promise<Uint8Array[]>((resolve) => (release = resolve));
  return { history, release };
}

describe("CanvasRoom with history read in the background", () => {
  it("goes live at the head before its history arrives, then puts the history before the batches applied meanwhile and settles `seeded`", async () => {
    const held = heldHistory();
    const { room } = makeRoom([{ ...blankSnapshot(600, 300, 10n), history: () => held.history }]);
    await room.load();
    expect(room.live).toBe(true);
    const first = new RecordingMember();
    expect(room.join(first, "f")).toBeDefined();
    room.onBatch(publishedBatch(11n, [{ x: 1, y: 0, color: 11 }]));
    // Covered by the live batches alone: replayed; older: a snapshot (tile refetch), as any uncovered resume.
    expect(room.watch(first, new Set([0]), 10n, 1n).replay.map(seqsIn)).toEqual([[11n]]);
    expect(room.watch(new RecordingMember(), new Set([0]), 8n, 1n).replayed).toBe(false);
    // `seeded`, which reconnecting Hellos wait for, starts the read and settles only once the history is in the ring.
    let seeded = false;
    void room.seeded.then(() => (seeded = true));
    await new Promise((r) => setImmediate(r));
    expect(seeded).toBe(false);
    held.release([8n, 9n, 10n].map((s) => publishedBatch(s, [{ x: 1, y: 0, color: Number(s) }])));
    await room.seeded;
    // ringMaxBatches is 4: 8..11 are held, contiguous, each once.
    expect(room.watch(new RecordingMember(), new Set([0]), 7n, 1n).replay.map(seqsIn)).toEqual([[8n, 9n, 10n, 11n]]);
    expect(room.watch(new RecordingMember(), new Set([0]), 8n, 1n).replay.map(seqsIn)).toEqual([[9n, 10n, 11n]]);
    expect(room.watch(new RecordingMember(), new Set([0]), 6n, 1n).replayed).toBe(false);
  });

  it("starts the history read HISTORY_SEED_DELAY_MS after the head unless `seeded` asks for it first", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const read = vi.fn(async () => [publishedBatch(10n, [{ x: 0, y: 0, color: 1 }])]);
      const { room } = makeRoom([{ ...blankSnapshot(2, 2, 10n), history: read }]);
      await room.load();
      vi.advanceTimersByTime(HISTORY_SEED_DELAY_MS - 1);
      expect(read).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(read).toHaveBeenCalledTimes(1);
      await room.seeded;
      expect(read).toHaveBeenCalledTimes(1);
      expect(room.watch(new RecordingMember(), new Set([0]), 9n, 1n).replay.map(seqsIn)).toEqual([[10n]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("drops history that no longer chains onto the ring: evicted live batches, or a snapshot installed since", async () => {
    const evicted = heldHistory();
    const busy = makeRoom([{ ...blankSnapshot(2, 2, 10n), history: () => evicted.history }]).room;
    await busy.load();
    void busy.seeded;
    for (let s = 11n; s <= 15n; s++) busy.onBatch(publishedBatch(s, [{ x: 0, y: 0, color: 1 }]));
    evicted.release([9n, 10n].map((s) => publishedBatch(s, [{ x: 0, y: 0, color: 1 }])));
    await new Promise((r) => setImmediate(r));
    expect(busy.watch(new RecordingMember(), new Set([0]), 11n, 1n).replay.map(seqsIn)).toEqual([[12n, 13n, 14n, 15n]]);
    expect(busy.watch(new RecordingMember(), new Set([0]), 10n, 1n).replayed).toBe(false);

    const stale = heldHistory();
    const { room } = makeRoom([{ ...blankSnapshot(2, 2, 10n), history: () => stale.history }, blankSnapshot(2, 2, 10n, 2n)]);
    await room.load();
    void room.seeded;
    // A new epoch re-snapshots at the same seq; the first snapshot's history would chain by seq alone.
    room.onBatch(publishedBatch(11n, [{ x: 0, y: 0, color: 1 }], 2n));
    await vi.waitFor(() => expect([room.live, room.epoch, room.seq]).toEqual([true, 2n, 11n]));
    stale.release([9n, 10n].map((s) => publishedBatch(s, [{ x: 0, y: 0, color: 1 }])));
    await new Promise((r) => setImmediate(r));
    expect(room.watch(new RecordingMember(), new Set([0]), 9n, 2n).replayed).toBe(false);
    expect(room.watch(new RecordingMember(), new Set([0]), 10n, 2n).replay.map(seqsIn)).toEqual([[11n]]);
  });
});
