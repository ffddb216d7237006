import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { createCanvasClient, createCanvasTransport } from "../../services/gateway/upstream/canvas-client.js";
import { REDIS_COMMAND_TIMEOUT_MS, SHUTDOWN_GRACE_MS, WRITE_DEADLINE_MS } from "../../services/shared/timing.js";
import { freePort } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { testSessionKeys } from "../../tools/process/session.js";
import { AckLedger, ledgerFailures, type LedgerPixel } from "./harness/ack-ledger.js";
import { CanvasReader } from "./harness/canvas-reader.js";
import { startClients } from "./harness/chaos-client.js";
import { recordStoredHistory } from "./harness/stored-history.js";

// Real processes: redis-server, a canvas service and a gateway, from dist/ (`npx tsc -p tsconfig.build.json`).
// Writes are held in flight by pausing the test's own Redis for writes (CLIENT PAUSE ... WRITE): the
// canvas service's Lua calls wait inside Redis, so the gateway's Places wait on the canvas service.

const SIDE = 64;
/** Placements in flight at the SIGTERM, in each test. */
const IN_FLIGHT = 12;
/** Long enough for every write to reach Redis and wait there before the SIGTERM. */
const SETTLE_IN_FLIGHT_MS = 400;

interface Canvas {
  service: ServiceProcess;
  grpcUrl: string;
  httpUrl: string;
}

async function startCanvas(redisUrl: string, name: string): Promise<Canvas> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const env = { HOST: "127.0.0.1", REDIS_URL: redisUrl, CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), CANVAS_WIDTH: String(SIDE), CANVAS_HEIGHT: String(SIDE), INSTANCE_ID: name, SESSION_KEYS: testSessionKeys() };
  const service = await startService(name, "services/canvas/main.js", env, `${httpUrl}/readyz`);
  return { service, grpcUrl: `http://127.0.0.1:${grpcPort}`, httpUrl };
}

/** SIGTERM, then the exit code, when the signal was sent and how long the process took to exit. */
async function timedStop(service: ServiceProcess): Promise<{ code: number | null; atMs: number; ms: number }> {
  const atMs = Date.now();
  const code = await service.stop();
  return { code, atMs, ms: Date.now() - atMs };
}

/** Resolves or rejects as `call` does, recording when it settled in `settled`. */
function timed<T>(call: Promise<T>, settled: number[]): Promise<T> {
  return call.finally(() => settled.push(Date.now()));
}

/** Distinct pixels for placement `i` of a test, three each, so every stored batch can be traced back to its placement. */
function pixelsFor(test: number, i: number): LedgerPixel[] {
  return [0, 1, 2].map((k) => ({ x: (i * 3 + k) % SIDE, y: test, color: 0x10000 * (test + 1) + i * 3 + k }));
}

describe("draining with writes really in flight (slow Redis via CLIENT PAUSE WRITE)", () => {
  let redis: TestRedis;
  let admin: Redis;
  const started: ServiceProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis({ appendfsync: "always" });
    admin = new Redis(redis.url);
  });
  afterEach(async () => {
    await admin.call("CLIENT", "UNPAUSE");
    await Promise.all(started.splice(0).map((s) => s.kill9()));
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  it("canvas service: SIGTERM with WritePixels and SetPixels in flight answers every one as stored, each batch holding exactly its pixels, and exits 0", async () => {
    const canvas = await startCanvas(redis.url, "drain-canvas-stored");
    started.push(canvas.service);
    const transport = createCanvasTransport(canvas.grpcUrl);
    const stream = createCanvasClient(transport);
    const unary = createClient(CanvasService, createGrpcTransport({ baseUrl: canvas.grpcUrl }));
    // Opens the write stream before the pause, as a gateway's would be.
    await stream.setPixels("default", [{ x: 0, y: SIDE - 1, color: 1 }], "warm-up", 5_000);
    // Short of the store's command timeout, so the calls wait for Redis rather than fail.
    await admin.call("CLIENT", "PAUSE", String(REDIS_COMMAND_TIMEOUT_MS - 500), "WRITE");
    const ledger = new AckLedger();
    const settled: number[] = [];
    const calls = Array.from({ length: IN_FLIGHT }, (_, i) => {
      const pixels = pixelsFor(1, i);
      ledger.recordSent(pixels);
      const answer = i % 2 === 0
        ? stream.setPixels("default", pixels, "drain", 10_000)
        : unary.setPixels({ canvasId: "default", pixels, author: "drain" }, { timeoutMs: 10_000 });
      return timed(answer, settled).then((res) => ledger.recordAck(res.seq, res.epoch, pixels));
    });
    await new Promise((r) => setTimeout(r, SETTLE_IN_FLIGHT_MS));
    const stop = timedStop(canvas.service);
    const answers = await Promise.allSettled(calls);
    const { code, atMs, ms } = await stop;
    stream.close?.();

    // Every call was still waiting on Redis when the signal came.
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(atMs);
    // The drain waited for Redis to come back: every call was stored and answered.
    expect(answers.filter((a) => a.status === "rejected")).toEqual([]);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(SHUTDOWN_GRACE_MS);
    const reader = await startCanvas(redis.url, "drain-canvas-reader");
    started.push(reader.service);
    await recordStoredHistory(redis.url, ledger);
    const check = ledger.check(await new CanvasReader(reader.httpUrl).read());
    expect(ledgerFailures(check)).toEqual([]);
    expect(check.verifiedPlacements).toBe(IN_FLIGHT);
  }, 60_000);

  it("canvas service: SIGTERM while Redis stays paused past the store's command timeout answers every call UNAVAILABLE, exits 0 within the grace, and stores no placement in part", async () => {
    const canvas = await startCanvas(redis.url, "drain-canvas-paused");
    started.push(canvas.service);
    const stream = createCanvasClient(createCanvasTransport(canvas.grpcUrl));
    await stream.setPixels("default", [{ x: 1, y: SIDE - 1, color: 1 }], "warm-up", 5_000);
    // The store gives up on Redis after REDIS_COMMAND_TIMEOUT_MS, inside the drain; the Lua calls it
    // sent still run once the pause ends, which is why no placement may land in part.
    const pauseMs = REDIS_COMMAND_TIMEOUT_MS * 2;
    await admin.call("CLIENT", "PAUSE", String(pauseMs), "WRITE");
    const pausedAt = Date.now();
    const ledger = new AckLedger();
    const settled: number[] = [];
    const placements = Array.from({ length: IN_FLIGHT }, (_, i) => pixelsFor(2, i));
    const calls = placements.map((pixels) => {
      ledger.recordSent(pixels);
      return timed(stream.setPixels("default", pixels, "drain", 30_000), settled).then((res) => ledger.recordAck(res.seq, res.epoch, pixels));
    });
    await new Promise((r) => setTimeout(r, SETTLE_IN_FLIGHT_MS));
    const stop = timedStop(canvas.service);
    const answers = await Promise.allSettled(calls);
    const { code, atMs, ms } = await stop;
    stream.close?.();

    expect(Math.min(...settled)).toBeGreaterThanOrEqual(atMs);
    // Answered with a clear error, never left to the caller's own 30 s deadline.
    expect(answers.map((a) => (a.status === "rejected" ? Code[ConnectError.from(a.reason).code] : "stored"))).toEqual(placements.map(() => "Unavailable"));
    expect(ms).toBeLessThan(SHUTDOWN_GRACE_MS);
    expect(code).toBe(0);
    // Let Redis run whatever it still holds, then look: each placement is in one batch whole, or nowhere.
    await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + pauseMs + 200 - Date.now())));
    await admin.call("CLIENT", "UNPAUSE");
    const history = new AckLedger();
    await recordStoredHistory(redis.url, history);
    for (const pixels of placements) {
      const holders = pixels.map((p) => history.batchesHolding(p).join(","));
      expect(new Set(holders).size, `placement ${JSON.stringify(pixels)} stored in part: ${holders.join(" | ")}`).toBe(1);
    }
    const reader = await startCanvas(redis.url, "drain-canvas-reader-2");
    started.push(reader.service);
    await recordStoredHistory(redis.url, ledger);
    const check = ledger.check(await new CanvasReader(reader.httpUrl).read());
    expect([check.lost, check.acksAheadOfStorage, check.acksOutsideHistory, check.unexplainedPixels]).toEqual([[], 0, 0, 0]);
  }, 60_000);

  for (const { pauseMs, expected } of [
    // Short of the canvas store's command timeout: the writes wait, then succeed.
    { pauseMs: REDIS_COMMAND_TIMEOUT_MS - 500, expected: "acked after storage" },
    // Past the gateway's write deadline: the gateway gives up retrying and says so.
    { pauseMs: WRITE_DEADLINE_MS + 3_000, expected: "answered UNAVAILABLE" },
  ]) {
    it(`gateway: SIGTERM with Places held ${pauseMs} ms by a slow canvas service: every Place is ${expected} before the socket closes, none lost, exit 0 within the grace`, async () => {
      const canvas = await startCanvas(redis.url, `drain-gw-canvas-${pauseMs}`);
      started.push(canvas.service);
      const port = await freePort();
      const gateway = await startService(`drain-gateway-${pauseMs}`, "services/gateway/main.js", {
        HOST: "127.0.0.1", REDIS_URL: redis.url, GATEWAY_PORT: String(port), CANVAS_URL: canvas.grpcUrl, INSTANCE_ID: `drain-gw-${pauseMs}`, PIXELS_PER_SECOND: "100000", PIXEL_BURST: "100000",
        // The chaos clients place without a session, as in the chaos cluster.
        SESSIONS: "optional",
      }, `http://127.0.0.1:${port}/readyz`);
      started.push(gateway);
      const ledger = new AckLedger();
      // A lone gateway serves no tiles: the client reads them from the canvas service.
      const [client] = await startClients(1, [`ws://127.0.0.1:${port}/ws`], ledger, undefined, undefined, canvas.httpUrl);
      try {
        await admin.call("CLIENT", "PAUSE", String(pauseMs), "WRITE");
        const short = pauseMs < REDIS_COMMAND_TIMEOUT_MS;
        const row = short ? 3 : 4;
        // Placed one by one: the gateway merges what waits behind an in-flight write into one batch.
        for (let i = 0; i < IN_FLIGHT; i++) expect(client!.place(pixelsFor(row, i))).toBe(true);
        await new Promise((r) => setTimeout(r, SETTLE_IN_FLIGHT_MS));
        const { code, atMs, ms } = await timedStop(gateway);
        const outcomes = client!.outcomes();
        const log = client!.placementLog();
        const errors = Object.fromEntries(client!.errors);
        client!.close();

        expect(code).toBe(0);
        expect(ms).toBeLessThan(SHUTDOWN_GRACE_MS);
        // Nothing was answered before the signal: every Place was in flight.
        expect(log.filter((p) => (p.settledMs ?? Infinity) < atMs)).toEqual([]);
        // Every Place was answered before the gateway closed the socket: none rolled back unanswered.
        expect(outcomes.pending + outcomes["connection-lost"]).toBe(0);
        expect(outcomes.acked + outcomes.refused).toBe(IN_FLIGHT);
        if (short) expect(outcomes.acked).toBe(IN_FLIGHT);
        else expect(errors).toEqual({ [ErrorCode[ErrorCode.UNAVAILABLE]]: IN_FLIGHT });
        await admin.call("CLIENT", "UNPAUSE");
        await recordStoredHistory(redis.url, ledger);
        const check = ledger.check(await new CanvasReader(canvas.httpUrl).read());
        expect([check.lost, check.acksAheadOfStorage, check.acksOutsideHistory, check.unexplainedPixels]).toEqual([[], 0, 0, 0]);
        expect(check.verifiedPlacements).toBe(outcomes.acked);
      } finally {
        client!.close();
      }
    }, 60_000);
  }
});
