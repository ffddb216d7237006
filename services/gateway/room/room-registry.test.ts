import { Code } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { MemoryPixelBus, type BatchListener, type PixelBus, type Subscription } from "../../shared/pixel-bus.js";
import { FakeCanvasService } from "../test-support/fake-canvas.js";
import { RoomRegistry, type RoomRegistryOptions } from "./room-registry.js";
import { batchFrame } from "../../../protocol/server-frames.js";
import { batchSeqsOf, decodeAll, quietLog, RecordingMember } from "../test-support/test-helpers.js";

/**
 * Forwards a MemoryPixelBus, but a subscription can be left unconfirmed (deaf, like a Redis
 * SUBSCRIBE not yet answered) until confirm(); it can also simulate a reconnect.
 */
class FlakyBus implements PixelBus {
  autoConfirm = true;
  private confirmed = true;
  private readonly pending: (() => void)[] = [];
  private readonly resubscribed = new Set<() => void>();
  constructor(private readonly inner: MemoryPixelBus) {}
  subscribe(canvasId: string, listener: BatchListener): Subscription {
    this.confirmed = this.autoConfirm;
    const inner = this.inner.subscribe(canvasId, (payload) => {
      if (this.confirmed) listener(payload);
    });
    const ready = this.confirmed ? Promise.resolve() : new Promise<void>((resolve) => this.pending.push(resolve));
    return Object.assign(() => inner.unsubscribe(), { unsubscribe: () => inner.unsubscribe(), ready });
  }
  confirm(): void {
    this.confirmed = true;
    for (const resolve of this.pending.splice(0)) resolve();
  }
  onResubscribed(listener: () => void): () => void {
    this.resubscribed.add(listener);
    return () => this.resubscribed.delete(listener);
  }
  reconnected(): void {
    for (const l of this.resubscribed) l();
  }
  isReady(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

const options: RoomRegistryOptions = {
  ringMaxBatches: 16,
  ringMaxBytes: 1 << 20,
  backlogMaxBatches: 100,
  maxPixelsPerPlace: 1000,
  pixelsPerSecond: 100,
  resyncRetryMs: 5,
  fanoutMicrosPerMember: 25,
  fanoutTickMaxMs: 20,
  lingerMs: 30,
  snapshotTimeoutMs: 200,
};

function setup() {
  const memory = new MemoryPixelBus();
  const bus = new FlakyBus(memory);
  const canvas = new FakeCanvasService(memory, 4, 4);
  const resyncs: string[] = [];
  const closed: string[] = [];
  const registry = new RoomRegistry(bus, canvas, options, { fannedOut: () => undefined, resynced: (r) => resyncs.push(r) }, quietLog, (id) => closed.push(id));
  return { bus, canvas, registry, resyncs, closed };
}

describe("RoomRegistry", () => {
  it("shares one seeded room per canvas and rejects an unknown canvas with NotFound", async () => {
    const { registry } = setup();
    const [a, b] = await Promise.all([registry.acquire("default"), registry.acquire("default")]);
    expect(a).toBe(b);
    await expect(registry.acquire("nope")).rejects.toMatchObject({ code: 5 });
    expect(registry.all()).toEqual([a]);
    registry.closeAll();
  });

  it("seeds only once the bus confirmed the subscription, so a batch stored while SUBSCRIBE was pending is not missed", async () => {
    const { bus, canvas, registry, resyncs } = setup();
    bus.autoConfirm = false;
    const acquiring = registry.acquire("default");
    await new Promise((r) => setTimeout(r, 5));
    // Stored and published while the subscription is not active yet: the bus drops it.
    await canvas.setPixels("default", [{ x: 1, y: 1, color: 9 }], "");
    await new Promise((r) => setTimeout(r, 5));
    bus.confirm();
    const room = await acquiring;
    // The snapshot was taken after the confirmation, so it holds the batch; no resync was needed.
    expect(room.seq).toBe(1n);
    await canvas.setPixels("default", [{ x: 2, y: 1, color: 9 }], "");
    await vi.waitFor(() => expect(room.seq).toBe(2n));
    expect(resyncs).toEqual([]);
    registry.closeAll();
  });

  it("seeds a new room's resume ring with the stored batches before its head and their tiles, and starts unseeded when history fails", async () => {
    const { canvas, registry } = setup();
    for (let i = 0; i < 20; i++) await canvas.setPixels("default", [{ x: i % 4, y: 0, color: i }], "");
    const room = await registry.acquire("default");
    expect(room.seq).toBe(20n);
    // The history is read in the background: start it and let it land.
    await room.seeded;
    // ringMaxBatches is 16: batches 5..20 are held, so after_seq 4..19 replay (every batch touches tile 0).
    const a = new RecordingMember();
    room.join(a, "a");
    const replayed = room.watch(a, new Set([0]), 4n, 1n);
    expect(replayed.replayed).toBe(true);
    expect(replayed.replay.length).toBeGreaterThan(0);
    const b = new RecordingMember();
    room.join(b, "b");
    expect(room.watch(b, new Set([0]), 3n, 1n).replayed).toBe(false);
    registry.closeAll();

    const failing = setup();
    for (let i = 0; i < 3; i++) await failing.canvas.setPixels("default", [{ x: 0, y: 0, color: i }], "");
    failing.canvas.historyFailsWith = Code.OutOfRange;
    const unseeded = await failing.registry.acquire("default");
    await unseeded.seeded;
    expect(unseeded.seq).toBe(3n);
    const c = new RecordingMember();
    unseeded.join(c, "c");
    expect(unseeded.watch(c, new Set([0]), 2n, 1n).replayed).toBe(false);
    failing.registry.closeAll();
  });

  it("makes a room joinable at its head while its history read is held, and seeds the ring behind the live batches once it lands", async () => {
    const { canvas, registry } = setup();
    for (let i = 0; i < 5; i++) await canvas.setPixels("default", [{ x: 0, y: 0, color: i }], "");
    const release = canvas.holdHistory();
    const room = await registry.acquire("default");
    const early = new RecordingMember();
    expect(room.join(early, "e")).toBeDefined();
    await canvas.setPixels("default", [{ x: 1, y: 0, color: 6 }], "");
    await vi.waitFor(() => expect(room.seq).toBe(6n));
    // Before the history: only a resume from the head on is covered; an older one refetches its tiles.
    expect(room.watch(early, new Set([0]), 5n, 1n).replayed).toBe(true);
    expect(room.watch(new RecordingMember(), new Set([0]), 2n, 1n).replayed).toBe(false);
    const seeded = room.seeded;
    release();
    await seeded;
    const resumed = room.watch(new RecordingMember(), new Set([0]), 2n, 1n);
    expect(batchSeqsOf(decodeAll(resumed.replay))).toEqual([3n, 4n, 5n, 6n]);
    registry.closeAll();
  });

  it("reads history newest window first and stops at the ring's byte bound, so large batches are not all read", async () => {
    const { bus, canvas } = setup();
    for (let i = 0; i < 60; i++) await canvas.setPixels("default", [{ x: 1, y: 1, color: 7 }], "");
    const [one] = await canvas.recentBatches({ canvasId: "default", afterSeq: 1n, throughSeq: 2n, epoch: 1n, maxBytes: 1 << 20, timeoutMs: 100 });
    const read = vi.spyOn(canvas, "recentBatches");
    const registry = new RoomRegistry(bus, canvas, { ...options, ringMaxBatches: 64, ringMaxBytes: 20 * one!.length }, { fannedOut: () => undefined, resynced: () => undefined }, quietLog);
    const room = await registry.acquire("default");
    await room.seeded;
    // 16 newest, then a doubled window trimmed to the 4 that still fit (41..44); nothing older is read.
    expect(read.mock.calls.map(([req]) => [req.afterSeq, req.throughSeq])).toEqual([[44n, 60n], [12n, 44n]]);
    // The ring's frames are a little larger than the payloads: it keeps as many as fit, the second window's among them.
    const kept = Math.floor((20 * one!.length) / batchFrame(one!).length);
    expect(kept).toBeGreaterThan(16);
    const first = BigInt(61 - kept);
    const resumed = room.watch(new RecordingMember(), new Set([0]), first - 1n, 1n);
    expect(batchSeqsOf(decodeAll(resumed.replay))).toEqual(Array.from({ length: kept }, (_, i) => first + BigInt(i)));
    expect(room.watch(new RecordingMember(), new Set([0]), first - 2n, 1n).replayed).toBe(false);
    registry.closeAll();
  });

  it("answers UNAVAILABLE when the bus does not confirm the subscription in time, and closes the room", async () => {
    const { bus, registry, closed } = setup();
    bus.autoConfirm = false;
    await expect(registry.acquire("default")).rejects.toMatchObject({ code: Code.Unavailable, rawMessage: expect.stringContaining("did not confirm") });
    expect(registry.all()).toEqual([]);
    expect(closed).toEqual(["default"]);
  });

  it("re-snapshots every room when the bus reconnects", async () => {
    const { bus, registry, resyncs } = setup();
    const room = await registry.acquire("default");
    const member = new RecordingMember();
    room.join(member, "m");
    bus.reconnected();
    await vi.waitFor(() => expect(member.resets).toBe(1));
    expect(resyncs).toEqual(["bus_reconnect"]);
    registry.closeAll();
  });

  it("closes an empty room after the linger time, but not one rejoined meanwhile", async () => {
    const { registry, closed } = setup();
    const room = await registry.acquire("default");
    // The linger timer runs on a fake clock, so a loaded machine cannot stretch the gaps below.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const member = new RecordingMember();
      room.join(member, "m");
      room.leave(member);
      registry.release(room);
      await vi.advanceTimersByTimeAsync(options.lingerMs - 1);
      expect(closed).toEqual([]);
      expect(await registry.acquire("default")).toBe(room);
      room.join(member, "m");
      await vi.advanceTimersByTimeAsync(options.lingerMs * 10);
      expect(closed).toEqual([]);
      room.leave(member);
      registry.release(room);
      await vi.advanceTimersByTimeAsync(options.lingerMs - 1);
      expect(closed).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(closed).toEqual(["default"]);
      expect(room.disposed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
