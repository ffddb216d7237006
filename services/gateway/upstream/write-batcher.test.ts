import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { Pixel } from "../../../gen/pixel/v1/canvas_pb.js";
import { ErrorCode } from "../../../gen/pixel/v1/realtime_pb.js";
import type { AuthorRun, RunResult, StoredWrite } from "./canvas-client.js";
import { WriteBatcher, type PlaceResult, type WriteBatcherOptions } from "./write-batcher.js";
import { quietLog } from "../test-support/test-helpers.js";

interface Call {
  pixels: Pixel[];
  author: string;
  timeoutMs: number;
  authors: AuthorRun[];
  resolve(seq: bigint, results?: RunResult[]): void;
  reject(err: Error): void;
}

/** A canvas client whose calls stay pending until the test settles them. */
class FakeCanvas {
  calls: Call[] = [];
  setPixels(_canvasId: string, pixels: Pixel[], author: string, timeoutMs: number, authors: AuthorRun[] = []): Promise<StoredWrite> {
    return new Promise((resolve, reject) => {
      this.calls.push({ pixels, author, timeoutMs, authors, resolve: (seq, results) => resolve({ seq, epoch: 1n, results }), reject });
    });
  }
}

const options: WriteBatcherOptions = { maxQueuedPixels: 10, maxPixelsPerCall: 6, maxInFlight: 1, deadlineMs: 400, attemptTimeoutMs: 100, backoffBaseMs: 10, maxBackoffMs: 40 };

function px(n: number, color = 1): Pixel[] {
  return Array.from({ length: n }, (_, i) => ({ x: i, y: 0, color }) as Pixel);
}

function setup(opts: Partial<WriteBatcherOptions> = {}) {
  const canvas = new FakeCanvas();
  const results = new Map<number, PlaceResult>();
  const calls: string[] = [];
  let queued = 0;
  const batcher = new WriteBatcher("default", canvas, { ...options, ...opts }, { called: (r) => calls.push(r), queueChanged: (d) => (queued += d) }, quietLog);
  const place = (clientSeq: number, pixels: Pixel[], connectionId = "c1", name = "ann") =>
    batcher.enqueue({ pixels, clientSeq, connectionId, name, userId: `user-${connectionId}`, ipKey: "10.0.0.1", settle: (r) => results.set(clientSeq, r) });
  return { canvas, batcher, results, calls, place, queued: () => queued };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("WriteBatcher", () => {
  it("sends each Place as its own Author run and answers a run refused by its budget with RATE_LIMITED and its wait, the others with an Ack", async () => {
    const { canvas, results, place } = setup();
    place(1, px(1));
    place(2, px(2), "c2", "bob");
    place(3, px(3), "c1", "ann");
    canvas.calls[0]!.resolve(4n);
    await tick();
    expect(canvas.calls[1]!.authors).toEqual([
      { userId: "user-c2", name: "bob", pixelCount: 2, ipKey: "10.0.0.1" },
      { userId: "user-c1", name: "ann", pixelCount: 3, ipKey: "10.0.0.1" },
    ]);
    canvas.calls[1]!.resolve(5n, [{ stored: false, retryAfterMs: 1234 }, { stored: true, retryAfterMs: 0 }]);
    await tick();
    expect(results.get(2)).toMatchObject({ ok: false, code: ErrorCode.RATE_LIMITED, retryAfterMs: 1234 });
    expect(results.get(3)).toEqual({ ok: true, seq: 5n });
  });

  it("sends a lone Place at once and coalesces what arrives while a call is in flight", async () => {
    const { canvas, results, place, queued } = setup();
    expect(place(1, px(1))).toBe(true);
    expect(canvas.calls).toHaveLength(1);
    expect(canvas.calls[0]!.author).toBe("ann");
    place(2, px(2), "c2", "bob");
    place(3, px(3), "c1", "ann");
    expect(canvas.calls).toHaveLength(1);
    expect(queued()).toBe(5);
    canvas.calls[0]!.resolve(7n);
    await tick();
    expect(results.get(1)).toEqual({ ok: true, seq: 7n });
    expect(canvas.calls).toHaveLength(2);
    expect(canvas.calls[1]!.pixels).toHaveLength(5);
    // Two connections share the call: no single author.
    expect(canvas.calls[1]!.author).toBe("");
    expect(queued()).toBe(0);
    canvas.calls[1]!.resolve(8n);
    await tick();
    expect(results.get(2)).toEqual({ ok: true, seq: 8n });
    expect(results.get(3)).toEqual({ ok: true, seq: 8n });
  });

  it("records who placed which pixels of a merged call as one run per Place, with its session's user id and network key", async () => {
    const { canvas, place } = setup({ maxQueuedPixels: 100, maxPixelsPerCall: 100 });
    place(1, px(1));
    place(2, px(2), "c2", "bob");
    place(3, px(3), "c2", "bob");
    place(4, px(4));
    expect(canvas.calls[0]!.authors).toEqual([{ userId: "user-c1", name: "ann", pixelCount: 1, ipKey: "10.0.0.1" }]);
    canvas.calls[0]!.resolve(1n);
    await tick();
    expect(canvas.calls[1]!.authors).toEqual([
      { userId: "user-c2", name: "bob", pixelCount: 2, ipKey: "10.0.0.1" },
      { userId: "user-c2", name: "bob", pixelCount: 3, ipKey: "10.0.0.1" },
      { userId: "user-c1", name: "ann", pixelCount: 4, ipKey: "10.0.0.1" },
    ]);
  });

  it("splits the next call at maxPixelsPerCall without splitting a Place", async () => {
    const { canvas, place } = setup({ maxQueuedPixels: 100 });
    place(1, px(1));
    place(2, px(4));
    place(3, px(4));
    place(4, px(1));
    canvas.calls[0]!.resolve(1n);
    await tick();
    expect(canvas.calls[1]!.pixels).toHaveLength(4);
    canvas.calls[1]!.resolve(2n);
    await tick();
    expect(canvas.calls[2]!.pixels).toHaveLength(5);
  });

  it("refuses a Place beyond the queue bound and keeps nothing of it", async () => {
    const { canvas, place, queued, batcher } = setup();
    place(1, px(1));
    expect(place(2, px(6))).toBe(true);
    expect(place(3, px(5))).toBe(false);
    expect(queued()).toBe(6);
    expect(batcher.queuedPixels).toBe(6);
    canvas.calls[0]!.resolve(1n);
    await tick();
    expect(canvas.calls[1]!.pixels).toHaveLength(6);
  });

  it("retries unavailable with backoff and acks once the service answers", async () => {
    const { canvas, results, calls, place } = setup();
    place(1, px(1));
    canvas.calls[0]!.reject(new ConnectError("down", Code.Unavailable));
    await new Promise((r) => setTimeout(r, 60));
    expect(canvas.calls).toHaveLength(2);
    expect(results.has(1)).toBe(false);
    canvas.calls[1]!.resolve(3n);
    await tick();
    expect(results.get(1)).toEqual({ ok: true, seq: 3n });
    expect(calls).toEqual(["Unavailable", "ok"]);
  });

  it("answers UNAVAILABLE for every Place of a call once the deadline passes, never silently", async () => {
    const { canvas, results, place } = setup({ deadlineMs: 150 });
    place(1, px(1));
    place(2, px(1));
    const start = Date.now();
    // The service keeps timing out: every attempt is rejected as soon as it is made. Place 2 rides
    // the next call (one in flight), whose deadline ends about when the first one's does.
    for (let i = 0; i < 200 && !(results.has(1) && results.has(2)); i++) {
      for (const call of canvas.calls.splice(0)) call.reject(new ConnectError("timeout", Code.DeadlineExceeded));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(results.get(1)).toMatchObject({ ok: false, code: ErrorCode.UNAVAILABLE });
    expect(results.get(2)).toMatchObject({ ok: false, code: ErrorCode.UNAVAILABLE });
    expect(Date.now() - start).toBeGreaterThanOrEqual(140);
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it("retries a call the transport cancelled (the HTTP/2 session of a killed replica was cut) and acks once it lands", async () => {
    const { canvas, results, calls, place } = setup();
    place(1, px(1));
    // What connect-node raises for every stream of a destroyed session.
    canvas.calls[0]!.reject(new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled));
    await new Promise((r) => setTimeout(r, 60));
    expect(canvas.calls).toHaveLength(2);
    expect(results.has(1)).toBe(false);
    canvas.calls[1]!.resolve(4n);
    await tick();
    expect(results.get(1)).toEqual({ ok: true, seq: 4n });
    expect(calls).toEqual(["Canceled", "ok"]);
  });

  it("answers UNAVAILABLE after the deadline when every attempt is cancelled by the transport, without claiming nothing was stored", async () => {
    const { canvas, results, place } = setup({ deadlineMs: 150 });
    place(1, px(1));
    for (let i = 0; i < 200 && !results.has(1); i++) {
      for (const call of canvas.calls.splice(0)) call.reject(new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled));
      await new Promise((r) => setTimeout(r, 5));
    }
    const result = results.get(1);
    expect(result).toMatchObject({ ok: false, code: ErrorCode.UNAVAILABLE });
    // An attempt may have been stored before the session was cut.
    expect(result).toMatchObject({ message: expect.stringContaining("if they were, they arrive in a batch") });
    expect(result).not.toMatchObject({ message: expect.stringContaining("nothing was stored") });
  });

  it("answers INTERNAL for an unexpected refusal without claiming nothing was stored", async () => {
    const { canvas, results, place } = setup();
    place(1, px(1));
    canvas.calls[0]!.reject(new ConnectError("odd", Code.FailedPrecondition));
    await tick();
    const result = results.get(1);
    expect(result).toMatchObject({ ok: false, code: ErrorCode.INTERNAL, message: expect.stringContaining("not confirmed stored") });
    expect(result).not.toMatchObject({ message: expect.stringContaining("nothing was stored") });
  });

  it("isolates a merged call the service refused, refusing only the offending Place", async () => {
    const { canvas, results, place } = setup();
    place(1, px(1));
    place(2, px(1, 5), "c2", "bob");
    place(3, px(1, 0x1000000), "c3", "cy");
    canvas.calls[0]!.resolve(1n);
    await tick();
    canvas.calls[1]!.reject(new ConnectError("pixel 1 has color 0x1000000", Code.InvalidArgument));
    await tick();
    expect(canvas.calls[2]!.pixels).toHaveLength(1);
    expect(canvas.calls[2]!.author).toBe("bob");
    canvas.calls[2]!.resolve(2n);
    await tick();
    canvas.calls[3]!.reject(new ConnectError("pixel 0 has color 0x1000000", Code.InvalidArgument));
    await tick();
    expect(results.get(2)).toEqual({ ok: true, seq: 2n });
    expect(results.get(3)).toMatchObject({ ok: false, code: ErrorCode.INVALID_ARGUMENT, message: expect.stringContaining("0x1000000") });
  });

  it("whenIdle resolves after every queued Place is settled", async () => {
    const { canvas, results, place, batcher } = setup();
    place(1, px(1));
    place(2, px(1));
    let idle = false;
    void batcher.whenIdle().then(() => (idle = true));
    canvas.calls[0]!.resolve(1n);
    await tick();
    expect(idle).toBe(false);
    canvas.calls[1]!.resolve(2n);
    await tick();
    await tick();
    expect(idle).toBe(true);
    expect(results.size).toBe(2);
  });
});
