import { describe, expect, it, vi } from "vitest";
import type { PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import { setupProtocolGateway as setup } from "./test-support/protocol-clients.js";

type Client = Awaited<ReturnType<ReturnType<typeof setup>["connect"]>>;

/** Every batch a client received, from `batch` and `batches` frames, in order. */
function batchesOf(client: Client): PixelBatch[] {
  return client.full().flatMap((f) => (f.frame.case === "batch" ? [f.frame.value] : f.frame.case === "batches" ? f.frame.value.batches : []));
}

describe("PixelBatch.columns (protocol 4)", () => {
  it("gives a protocol 4 client its batches' pixels in columns and a protocol 3 client the same batches with pixels", async () => {
    const { connect } = setup({ frameBudgetMs: 0 });
    const columns = await connect(4, true);
    const pixels = await connect(3, true);
    columns.place(1, 2);
    pixels.place(2, 5);
    await vi.waitFor(() => expect(batchesOf(columns)).toHaveLength(2));
    await vi.waitFor(() => expect(batchesOf(pixels)).toHaveLength(2));
    expect(batchesOf(columns).map((b) => [b.seq, b.pixels.length, b.columns?.x, b.columns?.y, b.columns?.color])).toEqual([
      [1n, 0, [2], [0], [1]],
      [2n, 0, [5], [0], [1]],
    ]);
    expect(batchesOf(pixels).map((b) => [b.seq, b.columns, b.pixels.map((p) => [p.x, p.y, p.color])])).toEqual([
      [1n, undefined, [[2, 0, 1]]],
      [2n, undefined, [[5, 0, 1]]],
    ]);
    // Everything but the pixels' form is the same batch.
    expect(batchesOf(columns).map((b) => [b.canvasId, b.epoch, b.timeUnixMs])).toEqual(batchesOf(pixels).map((b) => [b.canvasId, b.epoch, b.timeUnixMs]));
  });

  it("sends pixels to protocol 4 clients too with PIXEL_COLUMNS off", async () => {
    const { connect } = setup({ frameBudgetMs: 0, pixelColumns: false });
    const client = await connect(4, true);
    client.place(1, 3);
    await vi.waitFor(() => expect(batchesOf(client)).toHaveLength(1));
    expect(batchesOf(client).map((b) => [b.columns, b.pixels.length])).toEqual([[undefined, 1]]);
  });
});
