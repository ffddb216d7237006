import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { completionOrder } from "./completion-order.js";

/** A full garbage collection, without starting the test runner with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

async function* items<T>(values: T[]): AsyncGenerator<T> {
  for (const v of values) yield v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of source) out.push(v);
  return out;
}

describe("completionOrder", () => {
  it("yields results in the order the work completes, not the order it started", async () => {
    const delays = [30, 5, 15];
    const started: number[] = [];
    const out = await collect(
      completionOrder(items([0, 1, 2]), 8, async (i) => {
        started.push(i);
        await sleep(delays[i]!);
        return i;
      }),
    );
    expect(started).toEqual([0, 1, 2]);
    expect(out).toEqual([1, 2, 0]);
  });

  it("never runs more than `limit` items at once, and runs every item", async () => {
    let running = 0;
    let most = 0;
    const out = await collect(
      completionOrder(items(Array.from({ length: 20 }, (_, i) => i)), 3, async (i) => {
        running++;
        most = Math.max(most, running);
        await sleep(2);
        running--;
        return i * 2;
      }),
    );
    expect(most).toBe(3);
    expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  });

  it("stops reading once `stop` aborts but still yields the work already started", async () => {
    const stop = new AbortController();
    async function* endless(): AsyncGenerator<number> {
      for (let i = 0; ; i++) {
        yield i;
        await sleep(1);
      }
    }
    const out: number[] = [];
    let started = 0;
    for await (const v of completionOrder(endless(), 2, async (i) => {
      started++;
      if (i === 3) stop.abort();
      await sleep(10);
      return i;
    }, stop.signal)) {
      out.push(v);
    }
    expect(out.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    // A next() already pending when stop fired may be abandoned, but its item is never started.
    expect(started).toBe(4);
  });

  it("throws a rejected work's error after the results that completed", async () => {
    const out: number[] = [];
    const run = async () => {
      for await (const v of completionOrder(items([1, 2]), 4, async (i) => {
        if (i === 2) {
          await sleep(10);
          throw new Error("boom");
        }
        return i;
      })) {
        out.push(v);
      }
    };
    await expect(run()).rejects.toThrow("boom");
    expect(out).toEqual([1]);
  });

  it("keeps no item it has read while a long-lived stream (a never-aborted stop signal) stays open", async () => {
    const ITEMS = 200;
    const refs: WeakRef<object>[] = [];
    const queue: ((item: { pixels: number[] }) => void)[] = [];
    // A source that stays open after ITEMS items, like the gateway's WritePixels stream.
    const source: AsyncIterable<{ pixels: number[] }> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise((resolve) => queue.push((value) => resolve({ value, done: false }))),
      }),
    };
    const stop = new AbortController();
    const results = completionOrder(source, 4, async (item) => item.pixels.length, stop.signal)[Symbol.asyncIterator]();
    for (let i = 0; i < ITEMS; i++) {
      const answer = results.next();
      await new Promise((r) => setImmediate(r));
      const item = { pixels: Array.from({ length: 100 }, (_, k) => k) };
      refs.push(new WeakRef(item));
      queue.shift()?.(item);
      await answer;
    }
    collectGarbage();
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    const kept = refs.filter((ref) => ref.deref() !== undefined).length;
    stop.abort();
    // The last item or two may still be referenced by the reader's current frame.
    expect(kept).toBeLessThanOrEqual(2);
  });
});
