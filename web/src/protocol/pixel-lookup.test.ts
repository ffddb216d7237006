import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { LookupPixelResponseSchema, PlacementSchema, type LookupPixelResponse } from "../../../gen/pixel/v1/history_pb.js";
import type { Point } from "./line-pixels.js";
import { PixelLookup, type LookupView } from "./pixel-lookup.js";
import { ManualClock } from "./test-support/manual-clock.js";
import { LOOKUP_HOVER_DELAY_MS, LOOKUP_MAX_RETRIES, LOOKUP_RETRY_MS } from "./timing.js";

const WIDTH = 100;

function answer(p: Point, archivedSeq: bigint, name = "alice"): LookupPixelResponse {
  return create(LookupPixelResponseSchema, { placements: [create(PlacementSchema, { seq: archivedSeq, x: p.x, y: p.y, name, color: 0xff0000 })], archivedSeq, epoch: 1n });
}

/** A lookup whose server answers at once with `respond`, counting calls. */
function setup(respond: (p: Point) => Promise<LookupPixelResponse>) {
  const clock = new ManualClock();
  const views: LookupView[] = [];
  const calls: Point[] = [];
  const lookup = new PixelLookup(
    (p, signal) => {
      calls.push(p);
      return respond(p).then((r) => {
        if (signal.aborted) throw new Error("aborted");
        return r;
      });
    },
    (v) => views.push(v),
    () => WIDTH,
    clock,
  );
  return { clock, views, calls, lookup };
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

describe("PixelLookup", () => {
  it("asks only after the pointer rests on a pixel, and only for the pixel it rests on", async () => {
    const { clock, views, calls, lookup } = setup(async (p) => answer(p, 5n));
    lookup.show({ x: 1, y: 1 }, 5n);
    clock.advance(LOOKUP_HOVER_DELAY_MS / 2);
    lookup.show({ x: 2, y: 1 }, 5n);
    clock.advance(LOOKUP_HOVER_DELAY_MS / 2);
    lookup.show({ x: 3, y: 1 }, 5n);
    clock.advance(LOOKUP_HOVER_DELAY_MS - 1);
    expect(calls).toEqual([]);
    clock.advance(1);
    await flush();
    expect(calls).toEqual([{ x: 3, y: 1 }]);
    const last = views.at(-1);
    expect(last?.kind === "ready" && last.placements[0]?.name).toBe("alice");
  });

  it("answers a pixel hovered again from the cache until a batch paints it", async () => {
    const { clock, views, calls, lookup } = setup(async (p) => answer(p, 7n));
    const p = { x: 4, y: 9 };
    lookup.show(p, 7n);
    clock.advance(LOOKUP_HOVER_DELAY_MS);
    await flush();
    lookup.show(null, 7n);
    lookup.show(p, 7n);
    expect(views.at(-1)?.kind).toBe("ready");
    clock.advance(LOOKUP_HOVER_DELAY_MS * 3);
    await flush();
    expect(calls).toHaveLength(1);

    // Painted elsewhere: still cached. Painted here: asked again.
    lookup.painted([{ x: 5, y: 9 }], 8n);
    clock.advance(LOOKUP_HOVER_DELAY_MS);
    expect(calls).toHaveLength(1);
    lookup.painted([{ x: 4, y: 9 }], 9n);
    clock.advance(LOOKUP_HOVER_DELAY_MS);
    await flush();
    expect(calls).toHaveLength(2);
  });

  it("a click asks at once", async () => {
    const { calls, lookup } = setup(async (p) => answer(p, 1n));
    lookup.show({ x: 0, y: 0 }, 1n, true);
    await flush();
    expect(calls).toEqual([{ x: 0, y: 0 }]);
  });

  it("asks again, a bounded number of times, while the log trails what the page has seen", async () => {
    let archived = 3n;
    const { clock, views, calls, lookup } = setup(async (p) => answer(p, archived));
    lookup.show({ x: 1, y: 2 }, 6n);
    clock.advance(LOOKUP_HOVER_DELAY_MS);
    await flush();
    const first = views.at(-1);
    expect(first?.kind === "ready" && first.trailing).toBe(true);
    archived = 6n;
    clock.advance(LOOKUP_RETRY_MS);
    await flush();
    const second = views.at(-1);
    expect(second?.kind === "ready" && second.trailing).toBe(false);
    expect(calls).toHaveLength(2);

    // A log that never catches up is asked LOOKUP_MAX_RETRIES more times, then left alone.
    archived = 0n;
    lookup.show({ x: 9, y: 9 }, 6n);
    clock.advance(LOOKUP_HOVER_DELAY_MS);
    await flush();
    for (let i = 0; i < LOOKUP_MAX_RETRIES + 5; i++) {
      clock.advance(LOOKUP_RETRY_MS);
      await flush();
    }
    expect(calls).toHaveLength(2 + 1 + LOOKUP_MAX_RETRIES);
  });

  it("reports the server's refusal, stops asking a server without history, and ignores answers for a pixel no longer wanted", async () => {
    const { clock, views, calls, lookup } = setup(async () => {
      throw new ConnectError("history is off", Code.FailedPrecondition);
    });
    lookup.show({ x: 1, y: 1 }, 1n);
    clock.advance(LOOKUP_HOVER_DELAY_MS);
    await flush();
    expect(views.at(-1)).toEqual({ kind: "failed", pixel: { x: 1, y: 1 }, message: "history is off" });
    lookup.show({ x: 2, y: 1 }, 1n);
    clock.advance(LOOKUP_HOVER_DELAY_MS);
    await flush();
    expect(views.at(-1)).toEqual({ kind: "failed", pixel: { x: 2, y: 1 }, message: "history is off" });
    expect(calls).toHaveLength(1);

    // Other failures (a busy server) are not remembered.
    const busy = setup(async () => {
      throw new ConnectError("busy", Code.Unavailable);
    });
    for (const x of [1, 2]) {
      busy.lookup.show({ x, y: 1 }, 1n);
      busy.clock.advance(LOOKUP_HOVER_DELAY_MS);
      await flush();
    }
    expect(busy.calls).toHaveLength(2);

    let release: (r: LookupPixelResponse) => void = () => {};
    const slow = setup((p) => new Promise<LookupPixelResponse>((r) => (release = () => r(answer(p, 1n)))));
    slow.lookup.show({ x: 2, y: 2 }, 1n);
    slow.clock.advance(LOOKUP_HOVER_DELAY_MS);
    slow.lookup.show(null, 1n);
    release(answer({ x: 2, y: 2 }, 1n));
    await flush();
    expect(slow.views.at(-1)).toEqual({ kind: "none" });
  });
});
