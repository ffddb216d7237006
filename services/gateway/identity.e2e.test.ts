import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { ClientFrameSchema, CloseCode, ErrorCode, ServerFrameSchema, type ClientFrame, type ServerFrame } from "../../gen/pixel/v1/realtime_pb.js";
import { connectFailure } from "../../tests/support/connect-failure.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../tools/process/redis-server.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { fetchSession, mintSession, testSessionKeys } from "../../tools/process/session.js";

// Real processes from dist/: redis-server, the canvas service, two gateways and the web tier sharing
// SESSION_KEYS; gateway "strict" has small per-address caps.

const ADMIN_SECRET = "e2e-ops-secret";
const SESSION_KEYS = testSessionKeys();

type Frame = NonNullable<ServerFrame["frame"]["case"]>;
type FrameOf<C extends Frame> = Extract<ServerFrame["frame"], { case: C }>["value"];

/** A WebSocket client recording what it receives. */
async function openSocket(port: number, cookie?: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: cookie === undefined ? {} : { cookie } });
  const frames: ServerFrame["frame"][] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on("message", (data: Buffer) => frames.push(fromBinary(ServerFrameSchema, data).frame));
  ws.on("close", (code, reason) => (closed = { code, reason: reason.toString() }));
  ws.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const send = (frame: ClientFrame["frame"]) => ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })));
  const of = <C extends Frame>(kind: C) => frames.filter((f) => f.case === kind).map((f) => f.value as FrameOf<C>);
  return {
    ws,
    of,
    closed: () => closed,
    async hello() {
      send({ case: "hello", value: { canvasId: "", name: "e2e", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never });
      await waitFor("welcome", () => of("welcome").length > 0, 10_000, 10);
      return of("welcome")[0]!;
    },
    /** Places one pixel and waits for its Ack or Error. */
    async place(clientSeq: number) {
      send({ case: "place", value: { clientSeq, pixels: [{ x: clientSeq % 8, y: 3, color: 0xabcdef }] } as never });
      await waitFor(`answer to ${clientSeq}`, () => [...of("ack"), ...of("error")].some((a) => a.clientSeq === clientSeq), 10_000, 10);
      return { ack: of("ack").find((a) => a.clientSeq === clientSeq), error: of("error").find((e) => e.clientSeq === clientSeq) };
    },
    async close() {
      ws.close();
      await waitFor("closed", () => closed !== undefined, 5_000, 10);
    },
  };
}

describe("identity end to end (sessions, per-address caps, admin access)", () => {
  let redis: TestRedis;
  let canvasProc: ServiceProcess;
  const serviceProcs: ServiceProcess[] = [];
  let grpcUrl = "";
  let apiUrl = "";
  let gwPort = 0;
  let strictPort = 0;
  let webPort = 0;

  beforeAll(async () => {
    redis = await startRedis();
    const grpcPort = await freePort();
    const httpPort = await freePort();
    grpcUrl = `http://127.0.0.1:${grpcPort}`;
    apiUrl = `http://127.0.0.1:${httpPort}/api`;
    canvasProc = await startService(
      "e2e-identity-canvas",
      "services/canvas/main.js",
      {
        REDIS_URL: redis.url,
        CANVAS_GRPC_PORT: String(grpcPort),
        CANVAS_HTTP_PORT: String(httpPort),
        CANVAS_WIDTH: "8",
        CANVAS_HEIGHT: "8",
        SESSION_KEYS,
        ADMIN_TOKENS: `ops:${createHash("sha256").update(ADMIN_SECRET).digest("hex")}`,
      },
      `http://127.0.0.1:${httpPort}/readyz`,
    );
    const gateway = async (name: string, env: Record<string, string>) => {
      const port = await freePort();
      serviceProcs.push(
        await startService(
          `e2e-identity-${name}`,
          "services/gateway/main.js",
          { REDIS_URL: redis.url, GATEWAY_PORT: String(port), CANVAS_URL: grpcUrl, CANVAS_WIDTH: "8", CANVAS_HEIGHT: "8", SESSION_KEYS, ...env },
          `http://127.0.0.1:${port}/readyz`,
        ),
      );
      return port;
    };
    gwPort = await gateway("gateway", {});
    strictPort = await gateway("strict", { SESSIONS_PER_IP_PER_MINUTE: "2", MAX_CONNECTIONS_PER_IP: "2" });
    webPort = await freePort();
    // /healthz: readiness also wants a built app, which this test does not need.
    serviceProcs.push(await startService("e2e-identity-web", "services/web/main.js", { WEB_PORT: String(webPort), SESSION_KEYS }, `http://127.0.0.1:${webPort}/healthz`));
  });

  afterAll(async () => {
    for (const g of serviceProcs) await g.stop();
    await canvasProc?.stop();
    await redis?.stop();
  });

  it("a session from POST /session places through the gateway, and the stored batch (WatchCanvas) carries its user id", async () => {
    const session = await fetchSession(`http://127.0.0.1:${gwPort}`);
    const c = await openSocket(gwPort, session.cookie);
    await c.hello();
    // Two placements in turn, so the second's seq is at least 2 (WatchCanvas after_seq 0 means "live only").
    expect((await c.place(1)).ack).toBeDefined();
    const { ack } = await c.place(9);
    expect(ack).toBeDefined();
    const canvas = createClient(CanvasService, createGrpcTransport({ baseUrl: grpcUrl }));
    for await (const res of canvas.watchCanvas({ afterSeq: ack!.seq - 1n })) {
      expect(res.batch!.seq).toBe(ack!.seq);
      expect(res.batch!.authors.map((a) => [a.userId, a.name, a.pixelCount])).toEqual([[session.userId, "e2e", 1]]);
      break;
    }
    await c.close();
  });

  it("the page from the web tier sets an HttpOnly session cookie that a gateway accepts for placing", async () => {
    const page = await fetch(`http://127.0.0.1:${webPort}/`);
    const setCookie = page.headers.getSetCookie()[0] ?? "";
    expect(setCookie).toMatch(/^pp_session=[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=2592000$/);
    const c = await openSocket(gwPort, setCookie.split(";")[0]);
    await c.hello();
    expect((await c.place(4)).ack).toBeDefined();
    await c.close();
  });

  it("without a session a socket watches (Welcome) but its Place gets UNAUTHENTICATED", async () => {
    const c = await openSocket(gwPort);
    expect((await c.hello()).width).toBe(8);
    const { error } = await c.place(2);
    expect(error?.code).toBe(ErrorCode.UNAUTHENTICATED);
    await c.close();
  });

  it("refuses a forged token (another key) and an expired one (the right key) as no session", async () => {
    for (const { cookie } of [await mintSession(testSessionKeys()), await mintSession(SESSION_KEYS, -60)]) {
      const c = await openSocket(gwPort, cookie);
      await c.hello();
      expect((await c.place(3)).error?.code).toBe(ErrorCode.UNAUTHENTICATED);
      await c.close();
    }
  });

  it("the public /api takes SetPixels with a gateway-issued cookie and stores its user id; without one, Unauthenticated", async () => {
    const api = createClient(CanvasService, createConnectTransport({ baseUrl: apiUrl, httpVersion: "1.1" }));
    expect((await connectFailure(api.setPixels({ pixels: [{ x: 0, y: 0, color: 1 }] }))).code).toBe(Code.Unauthenticated);
    const session = await fetchSession(`http://127.0.0.1:${gwPort}`);
    const { seq } = await api.setPixels({ pixels: [{ x: 0, y: 0, color: 1 }], author: "curl" }, { headers: { cookie: session.cookie } });
    for await (const res of api.watchCanvas({ afterSeq: seq - 1n })) {
      expect(res.batch!.authors[0]?.userId).toBe(session.userId);
      break;
    }
  });

  it("caps new sessions per address per minute: the third POST /session within the minute gets 429 with Retry-After", async () => {
    const url = `http://127.0.0.1:${strictPort}/session`;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await fetch(url, { method: "POST" }));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(Number(answers[2]!.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("caps open sockets per address per gateway: the third is closed with 1013 and says why", async () => {
    const open = [await openSocket(strictPort), await openSocket(strictPort)];
    const third = await openSocket(strictPort);
    await waitFor("third closed", () => third.closed() !== undefined, 5_000, 10);
    expect(third.closed()).toEqual({ code: CloseCode.TRY_AGAIN_LATER, reason: "too many connections from your address: at most 2 per gateway; close some and retry" });
    for (const c of open) await c.close();
  });

  it("refuses ResetCanvas on the public /api even with a valid admin token; serves it on h2c to a named token and logs an audit line", async () => {
    const api = createClient(CanvasService, createConnectTransport({ baseUrl: apiUrl, httpVersion: "1.1" }));
    const auth = { headers: { authorization: `Bearer ${ADMIN_SECRET}` } };
    // The log is written asynchronously: take the offset first and wait for both audit lines.
    const logStart = statSync(canvasProc.logFile).size;
    expect((await connectFailure(api.resetCanvas({}, auth))).code).toBe(Code.PermissionDenied);
    const internal = createClient(CanvasService, createGrpcTransport({ baseUrl: grpcUrl }));
    const { epoch } = await internal.resetCanvas({}, auth);
    expect(epoch).toBeGreaterThan(0n);
    const audits = () =>
      readFileSync(canvasProc.logFile, "utf8")
        .slice(logStart)
        .split("\n")
        .filter((l) => l.includes('"audit"'))
        .map((l) => (JSON.parse(l) as { audit: unknown }).audit);
    await waitFor("two audit lines", () => audits().length >= 2, 5_000, 20);
    expect(audits()).toEqual([
      { admin: null, action: "ResetCanvas", canvasId: "default", surface: "public", result: "refused_public_api" },
      { admin: "ops", action: "ResetCanvas", canvasId: "default", surface: "internal", result: "ok" },
    ]);
  });
});
