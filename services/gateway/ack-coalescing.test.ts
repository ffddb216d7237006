import { describe, expect, it, vi } from "vitest";
import { setupProtocolGateway as setup } from "./test-support/protocol-clients.js";

describe("Acks coalesced per flush (protocol 3)", () => {
  it("carries the acks of Places stored together in the frame of their batch, in place order", async () => {
    const { canvas, connect } = setup({ frameBudgetMs: 0 });
    const c = await connect(3, true);
    const release = canvas.holdWrites();
    c.place(1, 0); // in flight alone
    c.place(2, 1); // these two ride the next call together
    c.place(3, 2);
    release();
    await vi.waitFor(() => expect(c.acks()).toEqual([[1, 1], [2, 2], [3, 2]]));
    const frames = c.full();
    expect(frames.some((f) => f.frame.case === "ack")).toBe(false);
    // The two Places stored together are acked in one frame, which also carries their batch.
    const carrying = frames.find((f) => f.acks.some((a) => a.clientSeq === 3))!;
    expect(carrying.acks.map((a) => a.clientSeq)).toEqual(expect.arrayContaining([2, 3]));
    expect(["batch", "batches"]).toContain(carrying.frame.case);
  });

  it("sends the acks alone to a placer that watches nothing", async () => {
    const { connect } = setup({ frameBudgetMs: 0 });
    const c = await connect(3, false);
    c.place(1, 0);
    await vi.waitFor(() => expect(c.acks()).toEqual([[1, 1]]));
    const carrying = c.full().find((f) => f.acks.length > 0)!;
    expect(carrying.frame.case).toBeUndefined();
    expect(carrying.acks).toHaveLength(1);
  });

  it("keeps one `ack` frame per Place for a protocol 2 client, beside a protocol 3 one", async () => {
    const { canvas, connect } = setup({ frameBudgetMs: 0 });
    const old = await connect(2, true);
    const release = canvas.holdWrites();
    old.place(1, 0);
    old.place(2, 1);
    release();
    await vi.waitFor(() => expect(old.acks()).toEqual([[1, 1], [2, 2]]));
    expect(old.full().every((f) => f.acks.length === 0)).toBe(true);
    expect(old.full().filter((f) => f.frame.case === "ack")).toHaveLength(2);
  });

  it("sends `ack` frames at once to every client with COALESCE_ACKS off", async () => {
    const { connect } = setup({ coalesceAcks: false });
    const c = await connect(3, true);
    c.place(1, 0);
    await vi.waitFor(() => expect(c.acks()).toEqual([[1, 1]]));
    expect(c.full().filter((f) => f.frame.case === "ack")).toHaveLength(1);
    expect(c.full().every((f) => f.acks.length === 0)).toBe(true);
  });
});
