import { describe, expect, it, vi } from "vitest";
import { MemoryPixelBus, type BatchListener, type PixelBus } from "../shared/pixel-bus.js";
import { FakeCanvasService } from "./fake-canvas.js";
import { RoomRegistry, type RoomRegistryOptions } from "./room-registry.js";
import { quietLog, RecordingMember } from "./test-helpers.js";

/** Forwards a MemoryPixelBus but can go deaf (a subscription not yet active) and can simulate a reconnect. */
class FlakyBus implements PixelBus {
  deaf = false;
  private readonly resubscribed = new Set<() => void>();
  constructor(private readonly inner: MemoryPixelBus) {}
  subscribe(canvasId: string, listener: BatchListener): () => void {
    return this.inner.subscribe(canvasId, (payload) => {
      if (!this.deaf) listener(payload);
    });
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
  lingerMs: 30,
  snapshotTimeoutMs: 1000,
  verifyDelayMs: 20,
  verifyCatchUpMs: 50,
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

  it("catches a batch missed while the subscription was not yet active, with nothing after it", async () => {
    const { bus, canvas, registry, resyncs } = setup();
    const room = await registry.acquire("default");
    const member = new RecordingMember();
    room.join(member, "m", 0n, 0n);
    bus.deaf = true;
    await canvas.setPixels("default", [{ x: 1, y: 1, color: 9 }], "");
    await new Promise((r) => setTimeout(r, 0));
    bus.deaf = false;
    expect(room.seq).toBe(0n);
    await vi.waitFor(() => expect(room.seq).toBe(1n));
    expect(resyncs).toEqual(["gap"]);
    expect(member.resets).toBe(1);
    registry.closeAll();
  });

  it("does not resync when batches in flight bring the room up to the verified seq", async () => {
    const { canvas, registry, resyncs } = setup();
    const room = await registry.acquire("default");
    await canvas.setPixels("default", [{ x: 1, y: 1, color: 9 }], "");
    await new Promise((r) => setTimeout(r, 120));
    expect(room.seq).toBe(1n);
    expect(resyncs).toEqual([]);
    registry.closeAll();
  });

  it("re-snapshots every room when the bus reconnects", async () => {
    const { bus, registry, resyncs } = setup();
    const room = await registry.acquire("default");
    const member = new RecordingMember();
    room.join(member, "m", 0n, 0n);
    bus.reconnected();
    await vi.waitFor(() => expect(member.resets).toBe(1));
    expect(resyncs).toEqual(["bus_reconnect"]);
    registry.closeAll();
  });

  it("closes an empty room after the linger time, but not one rejoined meanwhile", async () => {
    const { registry, closed } = setup();
    const room = await registry.acquire("default");
    const member = new RecordingMember();
    room.join(member, "m", 0n, 0n);
    room.leave(member);
    registry.release(room);
    await new Promise((r) => setTimeout(r, 10));
    expect(await registry.acquire("default")).toBe(room);
    room.join(member, "m", 0n, 0n);
    await new Promise((r) => setTimeout(r, 60));
    expect(closed).toEqual([]);
    room.leave(member);
    registry.release(room);
    await vi.waitFor(() => expect(closed).toEqual(["default"]));
    expect(room.disposed).toBe(true);
  });
});
