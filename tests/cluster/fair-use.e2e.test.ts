import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { PixelBatchSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { ClientFrameSchema, ErrorCode, ServerFrameSchema, type ClientFrame } from "../../gen/pixel/v1/realtime_pb.js";
import { canvasKeys } from "../../services/shared/redis-keys.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { fetchSession, testSessionKeys, type ClientSession } from "../../tools/process/session.js";

// Real processes (built with `npx tsc -p tsconfig.build.json`): redis-server, one canvas service, four
// gateways sharing one session key. 100 sockets of ONE person (one signed session, got with POST
// /session from the first gateway and sent as its cookie on every upgrade) spread over the four
// gateways place as fast as they are let for a few seconds; together they get one person's budget.

const RATE = 100;
const BURST = 200;
const GATEWAYS = 4;
const SOCKETS = 100;
const PLACE_MS = 4_000;
const PIXELS_PER_PLACE = 2;
/** Places each socket keeps in flight. */
const IN_FLIGHT = 2;
/** A refused socket retries after min(retry_after_ms, this): clients that do not wait as told must not get more. */
const IMPATIENT_RETRY_MS = 50;

/** One socket placing in a loop until told to stop, counting what was acknowledged and refused. */
class Placer {
  acked = 0;
  refusals: { code: ErrorCode; retryAfterMs: number }[] = [];
  private nextSeq = 1;
  private pending = 0;
  private stopped = false;
  private welcomed = false;

  constructor(readonly gateway: number, private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => this.receive(data));
    ws.on("error", () => undefined);
  }

  static async open(gateway: number, port: number, session: ClientSession): Promise<Placer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { cookie: session.cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const placer = new Placer(gateway, ws);
    placer.send({ case: "hello", value: { canvasId: "", name: "", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never });
    await waitFor("welcome", () => placer.welcomed, 20_000, 10);
    return placer;
  }

  start(): void {
    for (let i = 0; i < IN_FLIGHT; i++) this.placeOne();
  }

  stop(): void {
    this.stopped = true;
  }

  get settled(): boolean {
    return this.pending === 0;
  }

  close(): void {
    this.ws.terminate();
  }

  private placeOne(): void {
    if (this.stopped) return;
    this.pending++;
    const pixels = Array.from({ length: PIXELS_PER_PLACE }, () => ({ x: Math.floor(Math.random() * 50), y: Math.floor(Math.random() * 50), color: 0x3366ff }));
    this.send({ case: "place", value: { clientSeq: this.nextSeq++, pixels } as never });
  }

  private send(frame: ClientFrame["frame"]): void {
    this.ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })));
  }

  private receive(data: Buffer): void {
    const frame = fromBinary(ServerFrameSchema, data).frame;
    if (frame.case === "welcome") this.welcomed = true;
    if (frame.case === "ack") {
      this.pending--;
      this.acked += PIXELS_PER_PLACE;
      this.placeOne();
    }
    if (frame.case === "error" && frame.value.clientSeq !== 0) {
      this.pending--;
      this.refusals.push({ code: frame.value.code, retryAfterMs: frame.value.retryAfterMs });
      setTimeout(() => this.placeOne(), Math.min(frame.value.retryAfterMs, IMPATIENT_RETRY_MS));
    }
  }
}

describe("fair use across gateways", () => {
  let redis: TestRedis;
  let canvas: ServiceProcess | undefined;
  const gateways: ServiceProcess[] = [];
  const placers: Placer[] = [];
  let session: ClientSession;

  beforeAll(async () => {
    redis = await startRedis();
    const SESSION_KEYS = testSessionKeys();
    const grpcPort = await freePort();
    const httpPort = await freePort();
    canvas = await startService(
      "e2e-fair-use-canvas",
      "services/canvas/main.js",
      // Every socket is on 127.0.0.1: the per-network budget is off so the per-person one is what is measured.
      { REDIS_URL: redis.url, CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), CANVAS_BUDGETS: `default:rate=${RATE},burst=${BURST}`, IP_BUDGET_FACTOR: "0", SESSION_KEYS },
      `http://127.0.0.1:${httpPort}/readyz`,
    );
    const ports: number[] = [];
    for (let g = 0; g < GATEWAYS; g++) {
      const port = await freePort();
      ports.push(port);
      gateways.push(
        await startService(
          `e2e-fair-use-gw${g}`,
          "services/gateway/main.js",
          // The per-connection bucket is far above the person's budget, so only the shared budget limits.
          { REDIS_URL: redis.url, GATEWAY_PORT: String(port), CANVAS_URL: `http://127.0.0.1:${grpcPort}`, INSTANCE_ID: `gw${g}`, SESSION_KEYS, PIXELS_PER_SECOND: "100000", PIXEL_BURST: "100000" },
          `http://127.0.0.1:${port}/readyz`,
        ),
      );
    }
    session = await fetchSession(`http://127.0.0.1:${ports[0]!}`);
    for (let i = 0; i < SOCKETS; i++) placers.push(await Placer.open(i % GATEWAYS, ports[i % GATEWAYS]!, session));
  }, 120_000);

  afterAll(async () => {
    for (const p of placers) p.close();
    for (const g of gateways) await g.stop();
    await canvas?.stop();
    await redis?.stop();
  });

  it("lets 100 sockets of one session on 4 gateways store together no more than one budget (burst + rate x time), tells each refused Place how long to wait, and publishes only stored runs as that user's", async () => {
    const started = performance.now();
    for (const p of placers) p.start();
    await new Promise((r) => setTimeout(r, PLACE_MS));
    for (const p of placers) p.stop();
    await waitFor("every Place answered", () => placers.every((p) => p.settled), 20_000, 10);
    const elapsedS = (performance.now() - started) / 1000;

    const acked = placers.reduce((sum, p) => sum + p.acked, 0);
    // Budget charges happen inside [started, now]; the bucket never goes below zero, so the bound is
    // exact up to Redis's whole-millisecond clock: one Place of slack covers that rounding.
    const bound = BURST + RATE * elapsedS + PIXELS_PER_PLACE;
    console.log(`100 sockets of one session on 4 gateways: ${acked} pixels stored in ${elapsedS.toFixed(2)} s; bound burst + rate x time + one Place = ${bound.toFixed(0)}`);
    expect(acked).toBeGreaterThanOrEqual(BURST);
    expect(acked).toBeLessThanOrEqual(bound);

    // What Redis stored is exactly what was acknowledged: no refused Place slipped in.
    const admin = new Redis(redis.url);
    const entries = await admin.xrangeBuffer(canvasKeys("default").log, "-", "+");
    admin.disconnect();
    const batches = entries.map(([, fields]) => fromBinary(PixelBatchSchema, fields[1]!));
    const stored = batches.reduce((sum, b) => sum + b.pixels.length, 0);
    expect(stored).toBe(acked);
    // Every stored batch names the session's user for exactly its pixels (refused runs left out of
    // authors too), and no network key is stored.
    expect(batches.filter((b) => b.authors.some((a) => a.userId !== session.userId || a.ipKey !== "") || b.authors.reduce((n, a) => n + a.pixelCount, 0) !== b.pixels.length)).toEqual([]);

    // The sockets of every gateway were served from the one budget, and refused with a wait.
    expect(new Set(placers.filter((p) => p.acked > 0).map((p) => p.gateway)).size).toBe(GATEWAYS);
    const refusals = placers.flatMap((p) => p.refusals);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.filter((r) => r.code !== ErrorCode.RATE_LIMITED || r.retryAfterMs <= 0)).toEqual([]);
  }, 60_000);
});
