import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ClientFrameSchema, CloseCode, ErrorCode, ServerFrameSchema, type ClientFrame, type ServerFrame } from "../../gen/pixel/v1/realtime_pb.js";
import type { PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { Counter, Gauge, Histogram } from "prom-client";
import { batchContinuity } from "../../protocol/batch-continuity.js";
import { createCanvasClient, createCanvasTransport, type CanvasClient } from "./upstream/canvas-client.js";
import * as gatewayMetrics from "./gateway-metrics.js";

// Real processes: redis-server, one canvas service, two gateways (built with `npx tsc -p tsconfig.build.json`).

type Frame = Exclude<ServerFrame["frame"], { case: undefined }>;
type FrameValue<C extends Frame["case"]> = Extract<Frame, { case: C }>["value"];

/** A test client speaking the binary protocol over a real WebSocket, applying what it receives like the web app. */
class TestClient {
  frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  canvas = new Uint8Array(0);
  width = 0;
  seq = 0n;
  epoch = 0n;
  /** Seqs of every batch received, in arrival order. */
  batchSeqs: bigint[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => this.receive(fromBinary(ServerFrameSchema, data).frame));
    ws.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on("error", () => undefined);
  }

  static async open(port: number): Promise<TestClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new TestClient(ws);
  }

  send(frame: ClientFrame["frame"]): void {
    this.ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })));
  }

  async hello(lastSeq = 0n, lastEpoch = 0n, name = "tester"): Promise<FrameValue<"welcome">> {
    const before = this.of("welcome").length;
    this.send({ case: "hello", value: { canvasId: "", name, lastSeq, lastEpoch, protocol: 2 } as never });
    await waitFor("welcome", () => this.of("welcome").length > before, 10_000, 10);
    return this.of("welcome")[before]!;
  }

  place(clientSeq: number, pixels: { x: number; y: number; color: number }[]): void {
    this.send({ case: "place", value: { clientSeq, pixels } as never });
  }

  async ackFor(clientSeq: number): Promise<bigint> {
    await waitFor(`ack ${clientSeq}`, () => this.of("ack").some((a) => a.clientSeq === clientSeq) || this.of("error").some((e) => e.clientSeq === clientSeq), 10_000, 10);
    const err = this.of("error").find((e) => e.clientSeq === clientSeq);
    if (err) throw new Error(`Place ${clientSeq} failed: ${ErrorCode[err.code]} ${err.message}`);
    return this.of("ack").find((a) => a.clientSeq === clientSeq)!.seq;
  }

  of<C extends Frame["case"]>(kind: C): FrameValue<C>[] {
    return this.frames.flatMap((f): FrameValue<C>[] => (f.case === kind ? [f.value as FrameValue<C>] : []));
  }

  close(): void {
    this.ws.close();
  }

  /** Carries another client's copy over, as the web app keeps its canvas across a reconnect. */
  adopt(previous: TestClient): void {
    this.canvas = previous.canvas.slice();
    this.width = previous.width;
  }

  private receive(frame: ServerFrame["frame"]): void {
    if (frame.case === undefined) throw new Error("empty ServerFrame");
    this.frames.push(frame);
    if (frame.case === "welcome") {
      if (!frame.value.resumed) {
        this.canvas = frame.value.pixels.slice();
        this.width = frame.value.width;
      }
      this.seq = frame.value.seq;
      this.epoch = frame.value.epoch;
    } else if (frame.case === "batch") {
      this.apply(frame.value);
    } else if (frame.case === "batches") {
      for (const batch of frame.value.batches) this.apply(batch);
    }
  }

  private apply(batch: PixelBatch): void {
    this.batchSeqs.push(batch.seq);
    // A client applies strictly in order; anything else is a bug the test must see.
    const continuity = batchContinuity(this, batch);
    if (continuity !== "apply") throw new Error(`${continuity} batch ${batch.seq} (epoch ${batch.epoch}) after ${this.seq} (epoch ${this.epoch})`);
    for (const p of batch.pixels) this.canvas.set([(p.color >> 16) & 0xff, (p.color >> 8) & 0xff, p.color & 0xff], (p.y * this.width + p.x) * 3);
    this.seq = batch.seq;
  }
}

describe("gateway end to end (redis + canvas service + two gateways)", () => {
  let redis: TestRedis;
  let canvasProc: ServiceProcess;
  const gateways: ServiceProcess[] = [];
  const gwPorts: number[] = [];
  let canvas: CanvasClient;
  const clients: TestClient[] = [];
  const connect = async (port: number) => {
    const c = await TestClient.open(port);
    clients.push(c);
    return c;
  };
  const alive = async (port: number) => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;

  beforeAll(async () => {
    redis = await startRedis();
    const grpcPort = await freePort();
    const httpPort = await freePort();
    canvasProc = await startService(
      "e2e-gateway-canvas",
      "services/canvas/main.js",
      { REDIS_URL: redis.url, CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), INSTANCE_ID: "canvas-1" },
      `http://127.0.0.1:${httpPort}/readyz`,
    );
    for (const name of ["gw1", "gw2"]) {
      const port = await freePort();
      gwPorts.push(port);
      gateways.push(
        await startService(
          `e2e-gateway-${name}`,
          "services/gateway/main.js",
          // gw2 lists an origin; gw1 allows only the page's own (and clients that send none).
          { REDIS_URL: redis.url, GATEWAY_PORT: String(port), CANVAS_URL: `http://127.0.0.1:${grpcPort}`, INSTANCE_ID: name, PIXELS_PER_SECOND: "10000", PIXEL_BURST: "10000", ...(name === "gw2" ? { ALLOWED_ORIGINS: "https://pixels.example" } : {}) },
          `http://127.0.0.1:${port}/readyz`,
        ),
      );
    }
    canvas = createCanvasClient(createCanvasTransport(`http://127.0.0.1:${grpcPort}`));
  });

  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    for (const g of gateways) await g.stop();
    await canvasProc?.stop();
    await redis?.stop();
  });

  it("delivers pixels placed on gateway 1 to clients on both gateways in seq order; the placer is acked and GetCanvas agrees", async () => {
    const placer = await connect(gwPorts[0]!);
    const sameGw = await connect(gwPorts[0]!);
    const otherGw = await connect(gwPorts[1]!);
    const start = (await placer.hello()).seq;
    await sameGw.hello();
    await otherGw.hello();
    const acks: bigint[] = [];
    // A burst (coalesced into fewer calls) and then one at a time.
    for (let i = 0; i < 20; i++) placer.place(i + 1, [{ x: i, y: 3, color: 0x100000 + i }, { x: i, y: 4, color: 0xabcdef }]);
    for (let i = 0; i < 20; i++) acks.push(await placer.ackFor(i + 1));
    for (let i = 20; i < 25; i++) {
      placer.place(i + 1, [{ x: i, y: 5, color: 0x00ff00 + i }]);
      acks.push(await placer.ackFor(i + 1));
    }
    const last = acks.reduce((a, b) => (a > b ? a : b));
    expect(acks.every((s) => s > start)).toBe(true);
    for (const c of [placer, sameGw, otherGw]) {
      await waitFor("all batches", () => c.seq >= last, 10_000, 10);
      // Every seq exactly once, consecutive, from the Welcome on.
      expect(c.batchSeqs).toEqual(Array.from({ length: Number(last - start) }, (_, i) => start + 1n + BigInt(i)));
    }
    const stored = await canvas.getCanvas("default", 5000);
    expect(stored.seq).toBe(last);
    for (const c of [placer, sameGw, otherGw]) expect(Buffer.from(c.canvas).equals(Buffer.from(stored.pixels))).toBe(true);
    const px = (x: number, y: number) => [...stored.pixels.subarray((y * stored.width + x) * 3, (y * stored.width + x) * 3 + 3)];
    expect(px(7, 3)).toEqual([0x10, 0x00, 0x07]);
    expect(px(22, 5)).toEqual([0x00, 0xff, 22]);
  });

  it("answers garbage bytes with MALFORMED_FRAME and stays up", async () => {
    const c = await connect(gwPorts[0]!);
    c.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]));
    c.ws.send("a text frame");
    await waitFor("two errors", () => c.of("error").length === 2, 5000, 10);
    expect(c.of("error").map((e) => e.code)).toEqual([ErrorCode.MALFORMED_FRAME, ErrorCode.MALFORMED_FRAME]);
    expect(c.closed).toBeUndefined();
    expect((await c.hello()).canvasId).toBe("default");
    expect(await alive(gwPorts[0]!)).toBe(true);
  });

  it("refuses an out-of-range pixel with INVALID_ARGUMENT naming it, storing nothing", async () => {
    const c = await connect(gwPorts[1]!);
    const { seq, width } = await c.hello();
    c.place(7, [{ x: width, y: 0, color: 0xff0000 }]);
    await waitFor("error", () => c.of("error").length === 1, 5000, 10);
    expect(c.of("error")[0]).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, clientSeq: 7, message: expect.stringContaining(`x=${width}`) });
    expect((await canvas.getCanvas("default", 5000)).seq).toBe(seq);
  });

  it("answers a Hello for an unknown canvas with NOT_FOUND", async () => {
    const c = await connect(gwPorts[0]!);
    c.send({ case: "hello", value: { canvasId: "no-such-canvas", name: "", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never });
    await waitFor("error", () => c.of("error").length === 1, 5000, 10);
    expect(c.of("error")[0]).toMatchObject({ code: ErrorCode.NOT_FOUND, message: expect.stringContaining("no-such-canvas") });
    expect(c.of("welcome")).toEqual([]);
  });

  it("refuses upgrades from other sites' origins with 403 under the gateway entry, with and without ALLOWED_ORIGINS", async () => {
    const status = (port: number, origin: string | undefined) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, origin === undefined ? {} : { origin });
        ws.on("error", () => undefined);
        ws.once("open", () => {
          ws.terminate();
          resolve(101);
        });
        ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      });
    const [gw1, gw2] = [gwPorts[0]!, gwPorts[1]!];
    for (const origin of ["https://evil.example", "null", "https://pixels.example.evil.example", `http://127.0.0.1:${gw2}.evil.example`]) {
      expect(await status(gw2, origin), origin).toBe(403);
    }
    expect(await status(gw2, "https://pixels.example")).toBe(101);
    expect(await status(gw2, `http://127.0.0.1:${gw2}`)).toBe(101);
    expect(await status(gw1, "https://pixels.example")).toBe(403);
    expect(await status(gw1, `http://127.0.0.1:${gw1}`)).toBe(101);
    expect(await status(gw1, undefined)).toBe(101);
  });

  it("closes a 1 MiB frame with 1009 and stays up", async () => {
    const c = await connect(gwPorts[0]!);
    c.ws.send(Buffer.alloc(1024 * 1024, 1));
    await waitFor("close", () => c.closed !== undefined, 5000, 10);
    expect(c.closed?.code).toBe(CloseCode.MESSAGE_TOO_BIG);
    expect(await alive(gwPorts[0]!)).toBe(true);
    const again = await connect(gwPorts[0]!);
    expect((await again.hello()).canvasId).toBe("default");
  });

  it("resumes a reconnecting client with last_seq: a resumed Welcome and exactly the missed batches", async () => {
    const watcher = await connect(gwPorts[1]!);
    await watcher.hello();
    const leaving = await connect(gwPorts[0]!);
    const { seq: lastSeq, epoch } = await leaving.hello();
    leaving.close();
    const placer = await connect(gwPorts[0]!);
    await placer.hello();
    const missed: bigint[] = [];
    for (let i = 1; i <= 3; i++) {
      placer.place(100 + i, [{ x: i, y: 9, color: 0x123456 * i }]);
      missed.push(await placer.ackFor(100 + i));
    }
    await waitFor("watcher caught up", () => watcher.seq >= missed[2]!, 5000, 10);
    // Come back on the other gateway, as after losing one.
    const back = await connect(gwPorts[1]!);
    back.adopt(leaving);
    const welcome = await back.hello(lastSeq, epoch);
    expect(welcome).toMatchObject({ resumed: true, seq: lastSeq });
    expect(welcome.pixels.length).toBe(0);
    await waitFor("replay", () => back.seq >= missed[2]!, 5000, 10);
    expect(back.batchSeqs).toEqual(missed);
    const stored = await canvas.getCanvas("default", 5000);
    expect(stored.seq).toBe(missed[2]);
    expect(Buffer.from(back.canvas).equals(Buffer.from(stored.pixels))).toBe(true);
  });

  it("exposes every gateway metric on /metrics of a running gateway, with samples for the traffic it served", async () => {
    // The names come from the module, so a metric added later is covered without editing this list.
    const names = Object.values(gatewayMetrics)
      .filter((m): m is Counter | Gauge | Histogram => m instanceof Counter || m instanceof Gauge || m instanceof Histogram)
      .map((m) => (m as unknown as { name: string }).name);
    expect(names.length).toBeGreaterThanOrEqual(14);
    const res = await fetch(`http://127.0.0.1:${gwPorts[0]}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of [...names, "pixel_redis_connected"]) expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
    /** The value of one sample line, e.g. sample('pixel_gateway_frames_in_total{type="place"}'). */
    const sample = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    // Gateway 1 served Places, Acks, batches, malformed frames and closed sockets in the tests above.
    expect(sample("pixel_gateway_connections_opened_total")).toBeGreaterThan(0);
    expect(sample("pixel_gateway_connections")).toBeGreaterThan(0);
    // Labelled by the code ws reports for the socket (1006 when a client never answered our close frame).
    expect(text).toMatch(/^pixel_gateway_connections_closed_total\{code="\d+"\} [1-9]/m);
    expect(sample('pixel_gateway_frames_in_total{type="place"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_frames_in_total{type="hello"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_frames_in_total{type="malformed"}')).toBeGreaterThanOrEqual(2);
    expect(sample('pixel_gateway_frames_out_total{type="ack"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_frames_out_total{type="welcome"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_frames_out_total{type="batch"}')).toBeGreaterThan(0);
    expect(sample("pixel_gateway_pixels_placed_total")).toBeGreaterThan(0);
    expect(sample("pixel_gateway_pixels_broadcast_total")).toBeGreaterThan(0);
    expect(sample("pixel_gateway_fanout_latency_seconds_count")).toBeGreaterThan(0);
    expect(sample("pixel_gateway_fanout_frame_batches_count")).toBeGreaterThan(0);
    expect(sample('pixel_gateway_setpixels_duration_seconds_count{result="ok"}')).toBeGreaterThan(0);
    expect(sample('pixel_gateway_errors_total{code="MALFORMED_FRAME"}')).toBeGreaterThanOrEqual(2);
    expect(sample("pixel_gateway_write_queue_pixels")).toBe(0);
    expect(sample('pixel_redis_connected{role="bus"}')).toBe(1);
    expect(sample('pixel_redis_connected{role="presence"}')).toBe(1);
  });

  it("on SIGTERM closes its sockets with 1012 and exits cleanly", async () => {
    const c = await connect(gwPorts[1]!);
    await c.hello();
    const code = await gateways[1]!.stop();
    await waitFor("close", () => c.closed !== undefined, 5000, 10);
    expect(c.closed?.code).toBe(CloseCode.SERVICE_RESTART);
    expect(code).toBe(0);
  });
});
