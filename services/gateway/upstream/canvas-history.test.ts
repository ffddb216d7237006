import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { CanvasService, PixelBatchSchema, type PixelBatch } from "../../../gen/pixel/v1/canvas_pb.js";
import { readRecentBatches, type RecentBatchesRequest } from "./canvas-history.js";

/** A WatchCanvas that replays `stored` after after_seq, then stays open (the live phase) until cancelled. */
function watching(stored: PixelBatch[]) {
  const state = { signal: undefined as AbortSignal | undefined, afterSeq: -1n };
  const transport = createRouterTransport((router) =>
    router.service(CanvasService, {
      async *watchCanvas(req, ctx) {
        state.afterSeq = req.afterSeq;
        state.signal = ctx.signal;
        for (const batch of stored) if (batch.seq > req.afterSeq) yield { batch };
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      },
    }),
  );
  return { client: createClient(CanvasService, transport), state };
}

const batch = (seq: bigint, epoch = 1n) => create(PixelBatchSchema, { canvasId: "c", seq, epoch, pixels: [{ x: Number(seq), y: 0, color: 1 }] });
const request = (over: Partial<RecentBatchesRequest> = {}): RecentBatchesRequest => ({ canvasId: "c", afterSeq: 3n, throughSeq: 6n, epoch: 1n, maxBytes: 1 << 20, timeoutMs: 1_000, ...over });
const seqs = (payloads: Uint8Array[]) => payloads.map((p) => fromBinary(PixelBatchSchema, p).seq);

describe("readRecentBatches", () => {
  it("returns the batches (afterSeq, throughSeq] encoded as on the bus, and ends the watch at throughSeq", async () => {
    const { client, state } = watching([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n].map((s) => batch(s)));
    expect(seqs(await readRecentBatches(client, request()))).toEqual([4n, 5n, 6n]);
    expect(state.afterSeq).toBe(3n);
    await vi.waitFor(() => expect(state.signal?.aborted).toBe(true));
  });

  it("keeps only the newest batches within maxBytes", async () => {
    const { client } = watching([1n, 2n, 3n, 4n, 5n, 6n].map((s) => batch(s)));
    const one = (await readRecentBatches(client, request({ afterSeq: 5n })))[0]?.length ?? 0;
    expect(seqs(await readRecentBatches(client, request({ afterSeq: 1n, maxBytes: one * 2 })))).toEqual([5n, 6n]);
  });

  it("rejects another epoch, a jump in seq, and a watch that ends before throughSeq", async () => {
    await expect(readRecentBatches(watching([batch(4n), batch(5n, 2n)]).client, request())).rejects.toMatchObject({ code: Code.FailedPrecondition });
    await expect(readRecentBatches(watching([batch(4n), batch(6n)]).client, request())).rejects.toMatchObject({ code: Code.DataLoss });
    await expect(readRecentBatches(watching([batch(4n)]).client, request({ timeoutMs: 100 }))).rejects.toMatchObject({ code: Code.DeadlineExceeded });
  });

  it("refuses after_seq 0, which would watch live batches only", async () => {
    await expect(readRecentBatches(watching([]).client, request({ afterSeq: 0n }))).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});
