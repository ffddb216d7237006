import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import type { PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import { MemoryPixelBus, type BatchListener, type PixelBus, type Subscription } from "../shared/pixel-bus.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { watchBatches } from "./watch-batches.js";

const logger = pino({ level: "silent" });

/** A MemoryPixelBus whose subscriptions stay deaf (a Redis SUBSCRIBE not yet answered) until confirm() or fail(). */
class GatedBus implements PixelBus {
  private active = false;
  private settle: { resolve(): void; reject(err: Error): void } | undefined;
  constructor(private readonly inner: MemoryPixelBus) {}
  subscribe(canvasId: string, listener: BatchListener): Subscription {
    const inner = this.inner.subscribe(canvasId, (payload) => {
      if (this.active) listener(payload);
    });
    const ready = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    return Object.assign(() => inner.unsubscribe(), { unsubscribe: () => inner.unsubscribe(), ready });
  }
  confirm(): void {
    this.active = true;
    this.settle?.resolve();
  }
  fail(err: Error): void {
    this.settle?.reject(err);
  }
  onResubscribed(listener: () => void): () => void {
    return this.inner.onResubscribed(listener);
  }
  isReady(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

const stores: MemoryCanvasStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function setup() {
  const memory = new MemoryPixelBus();
  const store = new MemoryCanvasStore({ width: 4, height: 4, bus: memory, logger });
  stores.push(store);
  return { store, bus: new GatedBus(memory) };
}

/** Resolves with the next item, or rejects after `ms` so a missed batch fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms))]);
}

describe("watchBatches", () => {
  it("reads history only after the bus confirmed the subscription, so a batch stored while SUBSCRIBE was pending is delivered", async () => {
    const { store, bus } = setup();
    await store.setPixels("default", [{ x: 0, y: 0, color: 1 }], "a");
    const controller = new AbortController();
    const watch = watchBatches({ store, bus, canvasId: "default", afterSeq: 1, signal: controller.signal });
    const first = watch.next();
    await new Promise((r) => setTimeout(r, 5));
    // Stored (and published to nobody: the subscription is not active) before the confirmation.
    await store.setPixels("default", [{ x: 1, y: 0, color: 2 }], "b");
    bus.confirm();
    const got = await within(first, 1_000);
    expect((got.value as PixelBatch).seq).toBe(2n);
    // And what follows comes live.
    const second = watch.next();
    await store.setPixels("default", [{ x: 2, y: 0, color: 3 }], "c");
    expect(((await within(second, 1_000)).value as PixelBatch).seq).toBe(3n);
    controller.abort();
    await watch.return(undefined);
  });

  it("ends quietly when cancelled before the subscription was confirmed", async () => {
    const { store, bus } = setup();
    const controller = new AbortController();
    const watch = watchBatches({ store, bus, canvasId: "default", afterSeq: 0, signal: controller.signal });
    const first = watch.next();
    controller.abort();
    expect(await within(first, 1_000)).toEqual({ done: true, value: undefined });
  });

  it("ends with Unavailable when the bus cannot subscribe", async () => {
    const { store, bus } = setup();
    const watch = watchBatches({ store, bus, canvasId: "default", afterSeq: 0, signal: new AbortController().signal });
    const first = watch.next();
    bus.fail(new Error("Connection is closed."));
    const err = await within(first, 1_000).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: Code.Unavailable });
  });
});
