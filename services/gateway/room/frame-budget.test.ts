import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ServerFrameSchema } from "../../../gen/pixel/v1/realtime_pb.js";
import { ManualTickClock } from "../test-support/manual-tick-clock.js";
import { batchSeqsOf, decodeAll, publishedBatch, RecordingMember } from "../test-support/test-helpers.js";
import { batchFrame } from "../../../protocol/server-frames.js";
import { RingEntry } from "./batch-ring.js";
import { fanoutIntervalMs, roomInterval, type FanoutTickOptions } from "./fanout-tick.js";
import type { LoadGauge } from "./load-gauge.js";
import { RoomFanout, type PendingBatch } from "./room-fanout.js";

const BUDGET_MS = 16;

function pending(seq: bigint): PendingBatch {
  return { seq, entry: new RingEntry(batchFrame(publishedBatch(seq, [{ x: 0, y: 0, color: Number(seq) }])), [0]), pixelCount: 1, timeUnixMs: 0n };
}

/** A room fan-out with the production pacing knobs, a switchable load gauge and a manual clock. */
function setup(options: Partial<FanoutTickOptions> = {}) {
  const load = { loaded: true };
  const gauge: LoadGauge = { underLoad: () => load.loaded };
  const members = new Set<RecordingMember>();
  const clock = new ManualTickClock();
  const fanout = new RoomFanout(members, { fanoutMicrosPerMember: 25, fanoutTickMaxMs: 20, frameBudgetMs: BUDGET_MS, loadGauge: gauge, ...options }, { fannedOut: () => undefined }, clock);
  /** Frame arrival times per member, recorded as each frame is sent. */
  const times = new Map<RecordingMember, number[]>();
  const member = () => {
    const m = new RecordingMember();
    const send = m.sendBatch.bind(m);
    m.sendBatch = (frame) => {
      times.get(m)!.push(clock.now());
      return send(frame);
    };
    const flushAcks = m.flushAcks.bind(m);
    m.flushAcks = () => {
      if (m.heldAcks.length > 0) times.get(m)!.push(clock.now());
      flushAcks();
    };
    times.set(m, []);
    members.add(m);
    fanout.watch(m, new Set([0]));
    return m;
  };
  return { fanout, clock, member, times, load };
}

describe("fanoutIntervalMs with a frame budget", () => {
  const options = { fanoutMicrosPerMember: 25, fanoutTickMaxMs: 20, frameBudgetMs: BUDGET_MS };
  it("is the adaptive tick when not under load, and at least the budget under load", () => {
    expect(fanoutIntervalMs(100, options, false)).toBeCloseTo(2.5);
    expect(fanoutIntervalMs(100, options, true)).toBe(16);
    // A larger adaptive interval (a huge room) still wins.
    expect(fanoutIntervalMs(1_000, options, true)).toBe(20);
    // Budget 0 is off: the adaptive tick alone, loaded or not.
    expect(fanoutIntervalMs(100, { ...options, frameBudgetMs: 0 }, true)).toBeCloseTo(2.5);
  });

  it("asks the gauge only when a budget is set", () => {
    let asked = 0;
    const loadGauge: LoadGauge = { underLoad: () => (asked++, true) };
    expect(roomInterval(() => 100, { ...options, loadGauge })()).toBe(16);
    expect(asked).toBe(1);
    expect(roomInterval(() => 100, { ...options, frameBudgetMs: 0, loadGauge })()).toBeCloseTo(2.5);
    expect(asked).toBe(1);
  });
});

describe("RoomFanout frame budget", () => {
  it("sends the first batch after a quiet period at once, in the same I/O turn", () => {
    const { fanout, clock, member, times } = setup();
    const a = member();
    clock.advance(100);
    fanout.add(pending(1n));
    clock.runSoon();
    expect(times.get(a)).toEqual([100]);
    // Quiet for a budget again: the next one goes at once too.
    clock.advance(BUDGET_MS);
    fanout.add(pending(2n));
    clock.runSoon();
    expect(times.get(a)).toEqual([100, 116]);
  });

  it("under load gives each socket at most one frame per budget, losing nothing and keeping seq order", () => {
    const { fanout, clock, member, times } = setup();
    const readers = [member(), member(), member()];
    // A batch every millisecond for 200 ms, far faster than the budget.
    for (let seq = 1n; seq <= 200n; seq++) {
      fanout.add(pending(seq));
      clock.advance(1);
    }
    clock.advance(BUDGET_MS);
    for (const m of readers) {
      const at = times.get(m)!;
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(BUDGET_MS);
      // About one frame per budget: 200 ms / 16 ms, plus the immediate first one.
      expect(at.length).toBeLessThanOrEqual(Math.ceil(200 / BUDGET_MS) + 2);
      expect(m.batchSeqs()).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
    }
  });

  it("flushes at the adaptive tick while the gateway is not under load", () => {
    const { fanout, clock, member, times, load } = setup();
    load.loaded = false;
    const a = member();
    for (let seq = 1n; seq <= 20n; seq++) {
      fanout.add(pending(seq));
      clock.advance(1);
    }
    // One member: a 25 µs tick, so every batch goes in its own turn.
    expect(times.get(a)).toHaveLength(20);
    expect(a.batchSeqs()).toHaveLength(20);
  });

  it("keeps the budget when a member changes its watch: only that member is flushed early", () => {
    const { fanout, clock, member, times } = setup();
    const a = member();
    const b = member();
    fanout.add(pending(1n));
    clock.runSoon();
    fanout.add(pending(2n));
    clock.advance(1);
    fanout.watch(b, new Set([0, 1]));
    expect(times.get(a)).toEqual([0]);
    expect(times.get(b)).toEqual([0, 1]);
    clock.advance(BUDGET_MS);
    expect(times.get(a)).toEqual([0, 16]);
    // b got seq 2 with its Watch; nothing twice.
    expect(b.batchSeqs()).toEqual([1n, 2n]);
    expect(a.batchSeqs()).toEqual([1n, 2n]);
  });
});

describe("RoomFanout ack coalescing", () => {
  it("carries a member's acks in its frame of batches: one frame for everything since its last", () => {
    const { fanout, clock, member, times } = setup();
    const placer = member();
    const reader = member();
    placer.holdAck(1, 1n);
    fanout.acksPending(placer);
    placer.holdAck(2, 1n);
    fanout.acksPending(placer);
    fanout.add(pending(1n));
    clock.runSoon();
    expect(times.get(placer)).toEqual([0]);
    const frame = fromBinary(ServerFrameSchema, placer.frames[0]!);
    expect(frame.frame.case).toBe("batch");
    expect(frame.acks.map((a) => [a.clientSeq, a.seq])).toEqual([[1, 1n], [2, 1n]]);
    // The reader holds no acks: it gets the shared frame as it is.
    expect(fromBinary(ServerFrameSchema, reader.frames[0]!).acks).toEqual([]);
  });

  it("sends acks alone to a member that gets no batch in the flush, paced like the batches", () => {
    const { fanout, clock, member, times } = setup();
    const placer = member();
    fanout.watch(placer, new Set([7]));
    fanout.add(pending(1n));
    clock.runSoon();
    placer.holdAck(5, 1n);
    fanout.acksPending(placer);
    placer.holdAck(6, 2n);
    fanout.acksPending(placer);
    clock.runSoon();
    // Under load the ack waits for the budget since the room's last flush.
    expect(placer.frames).toHaveLength(0);
    clock.advance(BUDGET_MS);
    expect(times.get(placer)).toEqual([16]);
    const frame = fromBinary(ServerFrameSchema, placer.frames[0]!);
    expect(frame.frame.case).toBeUndefined();
    expect(frame.acks.map((a) => a.clientSeq)).toEqual([5, 6]);
    expect(decodeAll(placer.frames)).toHaveLength(1);
    expect(batchSeqsOf(decodeAll(placer.frames))).toEqual([]);
  });

  it("forgets a member that left", () => {
    const { fanout, clock, member } = setup();
    const placer = member();
    placer.holdAck(1, 1n);
    fanout.acksPending(placer);
    fanout.left(placer);
    clock.advance(BUDGET_MS);
    expect(placer.frames).toHaveLength(0);
  });
});
