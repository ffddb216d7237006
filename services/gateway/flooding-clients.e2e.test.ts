import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ClientFrameSchema, ServerFrameSchema, type ClientFrame } from "../../gen/pixel/v1/realtime_pb.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";

// Real processes: redis-server, a canvas service and one gateway (built with `npx tsc -p tsconfig.build.json`).

const encode = (frame: ClientFrame["frame"]) => toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame }));

/** The gateway's resident set in bytes, from /proc. */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  if (line === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line.split(/\s+/)[1]) * 1024;
}

async function open(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return ws;
}

/**
 * A client that stops reading (its socket paused) and sends `frame` as fast as its own socket takes
 * it, keeping at most 256 KiB queued locally; resolves with the ms from its first frame to its close.
 */
function flood(ws: WebSocket, frame: Uint8Array): Promise<number> {
  ws.pause();
  const started = Date.now();
  return new Promise((resolve) => {
    ws.once("close", () => resolve(Date.now() - started));
    const pump = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      for (let i = 0; i < 2_000 && ws.bufferedAmount < 256 * 1024; i++) ws.send(frame);
      setImmediate(pump);
    };
    pump();
  });
}

describe("gateway under clients that flood and never read (real processes)", () => {
  let redis: TestRedis;
  let canvasProc: ServiceProcess;
  let gateway: ServiceProcess;
  let port = 0;

  beforeAll(async () => {
    redis = await startRedis();
    const grpcPort = await freePort();
    const httpPort = await freePort();
    canvasProc = await startService(
      "e2e-flood-canvas",
      "services/canvas/main.js",
      { REDIS_URL: redis.url, CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), INSTANCE_ID: "canvas-1", SESSIONS: "optional" },
      `http://127.0.0.1:${httpPort}/readyz`,
    );
    port = await freePort();
    gateway = await startService(
      "e2e-flood-gateway",
      "services/gateway/main.js",
      { REDIS_URL: redis.url, GATEWAY_PORT: String(port), CANVAS_URL: `http://127.0.0.1:${grpcPort}`, INSTANCE_ID: "gw-flood", PIXELS_PER_SECOND: "100", PIXEL_BURST: "100", SESSIONS: "optional", MAX_CONNECTIONS_PER_IP: "1000" },
      `http://127.0.0.1:${port}/readyz`,
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await canvasProc?.stop();
    await redis?.stop();
  });

  it("closes each of 3 flooding non-readers within 2 s, keeps the gateway's RSS within 64 MB of idle, and keeps serving a well-behaved client", async () => {
    const pid = gateway.child.pid!;
    const good = await open(port);
    const received: ReturnType<typeof fromBinary<typeof ServerFrameSchema>>["frame"][] = [];
    good.on("message", (data: Buffer) => received.push(fromBinary(ServerFrameSchema, data).frame));
    const acks = () => received.filter((f) => f.case === "ack").length;
    good.send(encode({ case: "hello", value: { canvasId: "", name: "good", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never }));
    await waitFor("welcome", () => received.some((f) => f.case === "welcome"), 10_000, 10);
    good.send(encode({ case: "place", value: { clientSeq: 1, pixels: [{ x: 1, y: 1, color: 0x123456 }] } as never }));
    await waitFor("first ack", () => acks() === 1, 10_000, 10);
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = rssOf(pid);

    const placer = await open(port);
    placer.send(encode({ case: "hello", value: { canvasId: "", name: "placer", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never }));
    await new Promise((r) => setTimeout(r, 300));
    const flooders = [await open(port), await open(port), placer];
    const ping = encode({ case: "ping", value: { nonce: 0x7fff_ffffn } as never });
    const place = encode({ case: "place", value: { clientSeq: 9, pixels: [{ x: 2, y: 2, color: 0xabcdef }] } as never });
    let peakRss = idleRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(pid))), 20);
    const closeTimes = Promise.all(flooders.map((ws, i) => flood(ws, i < 2 ? ping : place)));
    // While they flood, the well-behaved client still gets its Places acked.
    for (let i = 2; i <= 4; i++) {
      good.send(encode({ case: "place", value: { clientSeq: i, pixels: [{ x: i, y: 1, color: 0x00ff00 }] } as never }));
      await waitFor(`ack ${i}`, () => acks() === i, 10_000, 5);
    }
    const closedAfterMs = await closeTimes;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssOf(pid));
    console.log(`flooders closed after ${closedAfterMs.join(", ")} ms; gateway RSS idle ${(idleRss / 2 ** 20).toFixed(1)} MiB, peak ${(peakRss / 2 ** 20).toFixed(1)} MiB`);

    for (const ms of closedAfterMs) expect(ms).toBeLessThan(2_000);
    expect(peakRss - idleRss).toBeLessThan(64 * 2 ** 20);
    good.send(encode({ case: "place", value: { clientSeq: 5, pixels: [{ x: 5, y: 1, color: 0x0000ff }] } as never }));
    await waitFor("ack after the flood", () => acks() === 5, 10_000, 10);
    expect(good.readyState).toBe(WebSocket.OPEN);
    // The gateway closed them by its own policy: 4001 for the Ping flooders (their queue stopped
    // draining), 1008 for the Place flooder (rate-limited Places refused).
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const closes = (reason: string) => Number(metrics.match(new RegExp(`pixel_gateway_abuse_closes_total\\{reason="${reason}"\\} (\\d+)`))?.[1] ?? 0);
    expect(closes("not_reading") + closes("send_buffer_full")).toBe(2);
    expect(closes("refused_frames")).toBe(1);
    good.terminate();
  });
});
