import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CanvasService } from "../../../gen/pixel/v1/canvas_pb.js";
import { createCanvasServer, type CanvasServer } from "../../canvas/canvas-server.js";
import { MemoryCanvasStore } from "../../canvas/memory-canvas-store.js";
import { loadConfig } from "../../shared/config.js";
import { MemoryPixelBus } from "../../shared/pixel-bus.js";
import { createCanvasClient, createCanvasTransport, isRetryable } from "./canvas-client.js";
import { connectFailure } from "../../../tests/support/connect-failure.js";

const logger = pino({ level: "silent" });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: http2.Http2Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (s) => sessions.add(s));
  cleanups.push(() => {
    for (const s of sessions) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The real canvas service in this process, on the memory store (the write path's logic is what is tested). */
async function startCanvas(): Promise<{ url: string; canvas: CanvasServer; store: MemoryCanvasStore }> {
  const bus = new MemoryPixelBus();
  const store = new MemoryCanvasStore({ width: 10, height: 10, bus, logger });
  const canvas = createCanvasServer({ config: loadConfig({ CANVAS_WIDTH: "10", CANVAS_HEIGHT: "10" }), store, bus, logger });
  const url = await listen(canvas.grpcServer);
  cleanups.push(() => store.close());
  cleanups.push(() => canvas.shutdown(1_000));
  return { url, canvas, store };
}

describe("SetPixels over one WritePixels stream", () => {
  it("stores concurrent calls with distinct seqs, refuses a bad one with its own code and keeps the stream for the rest", async () => {
    const { url, store } = await startCanvas();
    const client = createCanvasClient(createCanvasTransport(url));
    const good = Array.from({ length: 20 }, (_, i) => client.setPixels("default", [{ x: i % 10, y: 1, color: i + 1 }], "w", 2_000));
    const bad = connectFailure(client.setPixels("default", [{ x: 99, y: 1, color: 1 }], "w", 2_000));
    const missing = connectFailure(client.setPixels("nope", [{ x: 1, y: 1, color: 1 }], "w", 2_000));
    const seqs = (await Promise.all(good)).map((r) => r.seq);
    expect(new Set(seqs).size).toBe(20);
    expect(seqs.slice().sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
    expect((await bad).code).toBe(Code.InvalidArgument);
    expect((await bad).rawMessage).toContain("x=99");
    expect((await missing).code).toBe(Code.NotFound);
    const after = await client.setPixels("default", [{ x: 0, y: 0, color: 0xabcdef }], "w", 2_000);
    expect(after.seq).toBe(21n);
    const snap = await store.getCanvas("default");
    expect(snap.seq).toBe(21);
    expect([...snap.pixels.subarray(0, 3)]).toEqual([0xab, 0xcd, 0xef]);
  });

  it("against a canvas service without WritePixels, fails the first call retryably with nothing stored, then goes unary", async () => {
    let unary = 0;
    const routes = (router: ConnectRouter) =>
      router.rpc(CanvasService.method.setPixels, async () => {
        unary++;
        return { seq: BigInt(unary), epoch: 7n };
      });
    const url = await listen(http2.createServer(connectNodeAdapter({ routes })));
    const client = createCanvasClient(createCanvasTransport(url));
    // The first calls meet Unimplemented on the stream and fail retryably (nothing was stored) ...
    const first = await connectFailure(client.setPixels("default", [{ x: 1, y: 1, color: 1 }], "", 2_000));
    expect(first.code).toBe(Code.Unavailable);
    // ... and every later call goes unary.
    const res = await client.setPixels("default", [{ x: 1, y: 1, color: 1 }], "", 2_000);
    expect(res).toEqual({ seq: 1n, epoch: 7n, results: [] });
    expect(unary).toBe(1);
  });

  it("fails a call the service never answers with DeadlineExceeded, and the next call opens a new stream", async () => {
    const server = http2.createServer();
    let streams = 0;
    server.on("stream", (stream) => {
      streams++;
      stream.on("error", () => undefined);
      // Accepts the stream and never answers: a hung peer.
    });
    const url = await listen(server);
    const client = createCanvasClient(createCanvasTransport(url));
    const started = Date.now();
    const err = await connectFailure(client.setPixels("default", [{ x: 1, y: 1, color: 1 }], "", 200));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(1_000);
    await connectFailure(client.setPixels("default", [{ x: 1, y: 1, color: 1 }], "", 100));
    expect(streams).toBe(2);
  });

  it("does not hold the service's shutdown: the open stream ends, and an unanswered call fails retryably", async () => {
    const { url, canvas, store } = await startCanvas();
    const client = createCanvasClient(createCanvasTransport(url));
    await client.setPixels("default", [{ x: 1, y: 1, color: 1 }], "", 2_000);
    const started = Date.now();
    await canvas.shutdown(5_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    const err = await connectFailure(client.setPixels("default", [{ x: 3, y: 1, color: 3 }], "", 500));
    expect(isRetryable(err)).toBe(true);
    expect((await store.getCanvas("default")).seq).toBe(1);
  });
});
