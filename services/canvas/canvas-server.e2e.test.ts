import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { CanvasService, PixelBatchSchema, type PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import { CANVAS_REGISTRY_KEY, canvasKeys } from "../shared/redis-keys.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { REPO_ROOT, startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { connectFailure } from "../../tests/support/connect-failure.js";
import { mintSession, testSessionKeys } from "../../tools/process/session.js";
import { decodeTilePng } from "./tile-codec.js";

const ENTRY = "services/canvas/main.js";
/** The admin token the Redis-backed process accepts (as `ops`). */
const ADMIN_SECRET = "e2e-admin-token";

interface Running {
  service: ServiceProcess;
  grpcUrl: string;
  httpUrl: string;
}

/** Starts the built canvas service as a real process on free ports. */
async function startCanvas(name: string, env: Record<string, string>): Promise<Running> {
  if (!existsSync(join(REPO_ROOT, "dist", ENTRY))) throw new Error("dist/ is missing: run `npx tsc -p tsconfig.build.json` first (npm test does)");
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const service = await startService(name, ENTRY, { HOST: "127.0.0.1", CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), SESSION_KEYS, ...env }, `${httpUrl}/readyz`);
  return { service, grpcUrl: `http://127.0.0.1:${grpcPort}`, httpUrl };
}

/** The session keys every canvas process of this file verifies /api writes with. */
const SESSION_KEYS = testSessionKeys();

/** Connect JSON over HTTP/1.1 through the /api prefix, as a browser (with its session cookie) or curl would call it. */
async function apiCall(httpUrl: string, method: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const { cookie } = await mintSession(SESSION_KEYS);
  const res = await fetch(`${httpUrl}/api/pixel.v1.CanvasService/${method}`, { method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("canvas service as a real process on Redis", () => {
  let redis: TestRedis;
  let canvas: Running;
  let grpc: Transport;
  let client: Client<typeof CanvasService>;
  const env = () => ({
    REDIS_URL: redis.url, CANVAS_WIDTH: "32", CANVAS_HEIGHT: "32", CANVAS_HISTORY_BATCHES: "10", CANVAS_IDS: "default,protocols,watch,chaos,race,stream",
    ADMIN_TOKENS: `ops:${createHash("sha256").update(ADMIN_SECRET).digest("hex")}`,
  });

  beforeAll(async () => {
    redis = await startRedis({ appendfsync: "always" });
    canvas = await startCanvas("canvas-e2e-redis", env());
    grpc = createGrpcTransport({ baseUrl: canvas.grpcUrl });
    client = createClient(CanvasService, grpc);
  });
  afterAll(async () => {
    await canvas?.service.stop();
    await redis?.stop();
  });

  it("speaks gRPC, gRPC-Web and Connect on the h2c port", async () => {
    const transports: [string, Transport][] = [
      ["grpc", grpc],
      ["grpc-web", createGrpcWebTransport({ baseUrl: canvas.grpcUrl, httpVersion: "2" })],
      ["connect", createConnectTransport({ baseUrl: canvas.grpcUrl, httpVersion: "2" })],
    ];
    const seqs: bigint[] = [];
    for (const [i, [, transport]] of transports.entries()) {
      const c = createClient(CanvasService, transport);
      const { seq } = await c.setPixels({ canvasId: "protocols", pixels: [{ x: i, y: 0, color: 0x112233 * (i + 1) }], author: "e2e" });
      seqs.push(seq);
      const snap = await c.getCanvas({ canvasId: "" });
      expect(snap.width).toBe(32);
    }
    expect(seqs).toEqual([1n, 2n, 3n]);
  }, 30_000);

  it("sequences concurrent SetPixels calls 1..N, and the stored canvas equals the replay of the published batches", async () => {
    const sub = new Redis(redis.url);
    const published: PixelBatch[] = [];
    sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => published.push(fromBinary(PixelBatchSchema, message)));
    await sub.subscribe(canvasKeys("race").channel);
    const connect = createClient(CanvasService, createConnectTransport({ baseUrl: canvas.grpcUrl, httpVersion: "2" }));
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? client : connect).setPixels({ canvasId: "race", pixels: Array.from({ length: 1 + (i % 5) }, (_, k) => ({ x: (i * 5 + k) % 32, y: (i + k) % 32, color: (i * 40_503 + k) % 0x1000000 })) }),
      ),
    );
    expect(results.map((r) => Number(r.seq)).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    await waitFor("60 published batches", () => published.filter((b) => b.pixels.length > 0).length === 60);
    sub.disconnect();
    const batches = published.filter((b) => b.pixels.length > 0);
    expect(batches.map((b) => Number(b.seq))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const expected = Buffer.alloc(32 * 32 * 3, 0xff);
    for (const b of batches) for (const p of b.pixels) expected.writeUIntBE(p.color, (p.y * 32 + p.x) * 3, 3);
    const snap = await client.getCanvas({ canvasId: "race" });
    expect(snap.seq).toBe(60n);
    expect(Buffer.from(snap.pixels).equals(expected)).toBe(true);
  }, 30_000);

  it("answers WritePixels requests on one gRPC stream by id, stores them in order, and keeps the stream after a refused one", async () => {
    async function* requests() {
      for (let i = 1; i <= 30; i++) yield { id: BigInt(i), request: { canvasId: "stream", pixels: [{ x: i, y: 3, color: 0x010203 * i }], author: "s" } };
      yield { id: 99n, request: { canvasId: "stream", pixels: [{ x: 40, y: 3, color: 1 }] } };
      yield { id: 100n, request: { canvasId: "stream", pixels: [{ x: 0, y: 4, color: 0xfedcba }] } };
    }
    const answers = new Map<bigint, { seq?: bigint; code?: number; message?: string }>();
    for await (const res of client.writePixels(requests())) {
      if (res.result.case === "stored") answers.set(res.id, { seq: res.result.value.seq });
      if (res.result.case === "error") answers.set(res.id, { code: res.result.value.code, message: res.result.value.message });
    }
    expect(answers.size).toBe(32);
    // One Redis connection runs the scripts in the order they were read: seq follows the request order.
    for (let i = 1; i <= 30; i++) expect(answers.get(BigInt(i))?.seq).toBe(BigInt(i));
    expect(answers.get(99n)).toMatchObject({ code: Code.InvalidArgument });
    expect(answers.get(99n)?.message).toContain("x=40");
    expect(answers.get(100n)?.seq).toBe(31n);
    const snap = await client.getCanvas({ canvasId: "stream" });
    expect(snap.seq).toBe(31n);
    expect([...snap.pixels.subarray((3 * 32 + 30) * 3, (3 * 32 + 30) * 3 + 3)]).toEqual([0x1e, 0x3c, 0x5a]);
  });

  it("serves Connect JSON over HTTP/1.1 under /api, plus /healthz and /metrics", async () => {
    const set = await apiCall(canvas.httpUrl, "SetPixels", { pixels: [{ x: 31, y: 31, color: 0xff0000 }], author: "curl" });
    expect(set.status).toBe(200);
    expect(Number(set.json.seq)).toBeGreaterThan(0);
    const get = await apiCall(canvas.httpUrl, "GetCanvas", {});
    expect(get.status).toBe(200);
    const pixels = Buffer.from(get.json.pixels as string, "base64");
    expect(pixels.length).toBe(32 * 32 * 3);
    expect(pixels.readUIntBE((31 * 32 + 31) * 3, 3)).toBe(0xff0000);
    const bad = await apiCall(canvas.httpUrl, "SetPixels", { pixels: [{ x: 32, y: 0, color: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: "invalid_argument", message: "pixel 0 (x=32, y=0) is outside the 32x32 canvas" });
    const garbage = await fetch(`${canvas.httpUrl}/api/pixel.v1.CanvasService/SetPixels`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { code: string }).code).toBe("invalid_argument");
    const negative = await apiCall(canvas.httpUrl, "SetPixels", { pixels: [{ x: -1, y: 0, color: 1 }] });
    expect(negative.json.code).toBe("invalid_argument");
    expect((await fetch(`${canvas.httpUrl}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${canvas.httpUrl}/metrics`)).text();
    for (const name of ["pixel_canvas_setpixels_duration_seconds_bucket", "pixel_canvas_pixels_stored_total", "pixel_canvas_batches_stored_total", "pixel_canvas_rpc_errors_total", "pixel_canvas_watch_streams", 'pixel_redis_connected{role="store"} 1']) {
      expect(metrics).toContain(name);
    }
  });

  it("answers the gRPC health check with SERVING", async () => {
    const health = createClient(Health, grpc);
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: "pixel.v1.CanvasService" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await connectFailure(health.check({ service: "nope" }))).code).toBe(Code.NotFound);
  });

  it("WatchCanvas replays history, follows live batches, and rejects a too-old after_seq", async () => {
    for (let i = 0; i < 3; i++) await client.setPixels({ canvasId: "watch", pixels: [{ x: i, y: 1, color: i }] });
    const abort = new AbortController();
    const seen: bigint[] = [];
    const done = (async () => {
      for await (const res of client.watchCanvas({ canvasId: "watch", afterSeq: 1n }, { signal: abort.signal })) {
        seen.push(res.batch!.seq);
        if (seen.length === 2) {
          // Replay is over; these arrive live.
          await client.setPixels({ canvasId: "watch", pixels: [{ x: 9, y: 9, color: 9 }] });
          await client.setPixels({ canvasId: "watch", pixels: [{ x: 8, y: 9, color: 8 }] });
        }
        if (seen.length === 4) abort.abort();
      }
    })().catch((err: unknown) => {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    });
    await done;
    expect(seen).toEqual([2n, 3n, 4n, 5n]);

    // History keeps about 10 batches (MAXLEN ~ trims whole stream nodes of 100), so 300 more push seq 1 out.
    for (let i = 0; i < 300; i += 30) {
      await Promise.all(Array.from({ length: 30 }, (_, k) => client.setPixels({ canvasId: "watch", pixels: [{ x: 0, y: 0, color: i + k }] })));
    }
    const err = await connectFailure((async () => {
      for await (const _ of client.watchCanvas({ canvasId: "watch", afterSeq: 1n })) break;
    })());
    expect(err.code).toBe(Code.OutOfRange);
    expect(err.rawMessage).toContain("after_seq 1 is not covered by the retained history");
  }, 60_000);

  it("fails with Unavailable and turns unready while Redis is down, then recovers by itself without losing an acknowledged pixel", async () => {
    // A writer keeps going through the outage; each write goes to its own pixel, so every acked one must survive.
    const acked: { x: number; y: number; color: number }[] = [];
    const codes = new Set<Code>();
    let stop = false;
    const writer = (async () => {
      for (let i = 0; i < 1024 && !stop; i++) {
        const p = { x: i % 32, y: Math.floor(i / 32), color: 0x40000 + i };
        try {
          await client.setPixels({ canvasId: "chaos", pixels: [p] });
          acked.push(p);
        } catch (err) {
          codes.add(ConnectError.from(err).code);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await waitFor("some acked writes", () => acked.length >= 20);
    await redis.kill9();
    await waitFor("/readyz 503", async () => (await fetch(`${canvas.httpUrl}/readyz`)).status === 503);
    const err = await connectFailure(client.setPixels({ canvasId: "chaos", pixels: [{ x: 0, y: 0, color: 1 }] }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).not.toContain("127.0.0.1");
    expect((await createClient(Health, grpc).check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    const ackedWhileDown = acked.length;

    await redis.restart();
    await waitFor("/readyz 200", async () => (await fetch(`${canvas.httpUrl}/readyz`)).status === 200, 20_000);
    await waitFor("writes succeed again", () => acked.length > ackedWhileDown + 10, 20_000);
    stop = true;
    await writer;
    expect([...codes]).toEqual([Code.Unavailable]);
    const snap = await client.getCanvas({ canvasId: "chaos" });
    expect(Number(snap.seq)).toBeGreaterThanOrEqual(acked.length);
    for (const p of acked) expect(Buffer.from(snap.pixels).readUIntBE((p.y * 32 + p.x) * 3, 3)).toBe(p.color);
  }, 60_000);

  it("creates an 8192x8192 canvas with a background in the Redis registry, paints its far corner and serves it by tile, RPC and HTTP", async () => {
    const admin = { headers: { authorization: `Bearer ${ADMIN_SECRET}` } };
    expect((await connectFailure(client.getTile({ canvasId: "huge" }))).code).toBe(Code.NotFound);
    const created = await client.createCanvas({ name: "huge", width: 8192, height: 8192, backgroundColor: 0x000080 }, admin);
    expect(created.created).toBe(true);
    const { seq } = await client.setPixels({ canvasId: "huge", pixels: [{ x: 8191, y: 8191, color: 0xff0000 }] });
    const corner = await client.getTile({ canvasId: "huge", level: 0, tx: 31, ty: 31 });
    expect([corner.version, corner.canvasWidth, corner.levelCount]).toEqual([seq, 8192, 6]);
    const png = decodeTilePng(corner.data).pixels;
    expect([...png.subarray(-6)]).toEqual([0, 0, 0x80, 0xff, 0, 0]);
    const res = await fetch(`${canvas.httpUrl}/api/tiles/huge/5/0/0.png`);
    expect([res.status, res.headers.get("x-tile-version")]).toEqual([200, String(seq)]);
    const redisAdmin = new Redis(redis.url);
    try {
      expect(await redisAdmin.hexists(CANVAS_REGISTRY_KEY, "huge")).toBe(1);
      expect(await redisAdmin.hkeys(canvasKeys("huge").tiles)).toEqual(["31:31"]);
    } finally {
      redisAdmin.disconnect();
    }
    const listed = await apiCall(canvas.httpUrl, "ListCanvases", {});
    expect((listed.json.canvases as { name: string; seq?: string }[]).find((c) => c.name === "huge")?.seq).toBe(String(seq));
  });

  it("keeps the canvas across a restart of the service process, and exits 0 on SIGTERM", async () => {
    await client.setPixels({ canvasId: "", pixels: [{ x: 5, y: 5, color: 0x0000ff }] });
    const before = await client.getCanvas({});
    expect(await canvas.service.stop()).toBe(0);
    canvas = await startCanvas("canvas-e2e-redis-2", env());
    grpc = createGrpcTransport({ baseUrl: canvas.grpcUrl });
    client = createClient(CanvasService, grpc);
    const after = await client.getCanvas({});
    expect([after.seq, after.epoch]).toEqual([before.seq, before.epoch]);
    expect(Buffer.from(after.pixels).equals(Buffer.from(before.pixels))).toBe(true);
  }, 60_000);
});

describe("canvas service as a real process on the embedded store", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "pixel-canvas-e2e-"));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("keeps the drawing, seq and epoch across a restart with the same DATA_DIR, and drains a watch on SIGTERM", async () => {
    const env = { DATA_DIR: dataDir, CANVAS_WIDTH: "20", CANVAS_HEIGHT: "10" };
    let canvas = await startCanvas("canvas-e2e-embedded", env);
    let client = createClient(CanvasService, createGrpcTransport({ baseUrl: canvas.grpcUrl }));
    for (let i = 0; i < 10; i++) await client.setPixels({ pixels: [{ x: i, y: i, color: 0x010101 * (i + 1) }], author: "e2e" });
    const before = await client.getCanvas({});
    // An open watch must not hold the shutdown up: the stream ends and the process exits 0.
    const watch = (async () => {
      for await (const _ of client.watchCanvas({ afterSeq: 10n })) {
        // nothing is written while the watch is open
      }
    })().catch((err: unknown) => ConnectError.from(err));
    await new Promise((r) => setTimeout(r, 200));
    const stopped = Date.now();
    expect(await canvas.service.stop()).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(5_000);
    await watch;

    canvas = await startCanvas("canvas-e2e-embedded-2", env);
    client = createClient(CanvasService, createGrpcTransport({ baseUrl: canvas.grpcUrl }));
    const after = await client.getCanvas({});
    expect([after.seq, after.epoch]).toEqual([before.seq, before.epoch]);
    expect(Buffer.from(after.pixels).equals(Buffer.from(before.pixels))).toBe(true);
    expect((await client.setPixels({ pixels: [{ x: 19, y: 9, color: 0 }] })).seq).toBe(11n);
    expect(await canvas.service.stop()).toBe(0);
  }, 60_000);
});
