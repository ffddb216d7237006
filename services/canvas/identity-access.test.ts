import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { fromBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { CanvasService, PixelBatchSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { loadConfig } from "../shared/config.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { loadSecurityConfig } from "../shared/security-config.js";
import { generateSessionKey, parseSessionKeys, SessionTokens } from "../shared/session-token.js";
import { connectFailure } from "../../tests/support/connect-failure.js";
import { capturedLogger } from "../shared/test-support/captured-logger.js";
import { createCanvasServer, type CanvasServer } from "./canvas-server.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";

const ADMIN_SECRET = "ops-token-for-tests";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** A canvas server in this process with both listeners on port 0, its log lines captured. */
async function start(env: Record<string, string>) {
  const { logger, lines } = capturedLogger();
  const tokens = new SessionTokens(parseSessionKeys(generateSessionKey()), 3600);
  const bus = new MemoryPixelBus();
  const store = new MemoryCanvasStore({ width: 8, height: 8, bus, logger });
  const server = createCanvasServer({
    config: loadConfig({ CANVAS_WIDTH: "8", CANVAS_HEIGHT: "8" }),
    store,
    bus,
    logger,
    identity: { tokens, security: loadSecurityConfig({ ADMIN_TOKENS: `ops:${sha256(ADMIN_SECRET)}`, ...env }) },
  });
  const port = (s: CanvasServer["httpServer"] | CanvasServer["grpcServer"]) =>
    new Promise<number>((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
  const api = createClient(CanvasService, createConnectTransport({ baseUrl: `http://127.0.0.1:${await port(server.httpServer)}/api`, httpVersion: "1.1" }));
  const internal = createClient(CanvasService, createConnectTransport({ baseUrl: `http://127.0.0.1:${await port(server.grpcServer)}`, httpVersion: "2" }));
  running.push(async () => {
    await server.shutdown(1_000);
    await store.close();
  });
  /** The batch the store holds at `seq`, decoded. */
  const storedBatch = async (seq: number) => fromBinary(PixelBatchSchema, (await store.history("default", seq - 1, 1))![0]!);
  const audits = () => lines.flatMap((l) => (l.audit === undefined ? [] : [l.audit]));
  return { api, internal, tokens, storedBatch, audits };
}

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

const pixel = [{ x: 1, y: 2, color: 0x123456 }];
const admin = { headers: { authorization: `Bearer ${ADMIN_SECRET}` } };

describe("sessions on the public /api", () => {
  it("refuses SetPixels without a session with Unauthenticated and stores nothing", async () => {
    const { api, internal } = await start({});
    expect((await connectFailure(api.setPixels({ pixels: pixel }))).code).toBe(Code.Unauthenticated);
    expect((await internal.getCanvas({})).seq).toBe(0n);
  });

  it("refuses a forged session token (signed with another key) with Unauthenticated", async () => {
    const { api } = await start({});
    const other = new SessionTokens(parseSessionKeys(generateSessionKey()), 3600);
    const { token } = await other.issue();
    expect((await connectFailure(api.setPixels({ pixels: pixel }, { headers: { cookie: `pp_session=${token}` } }))).code).toBe(Code.Unauthenticated);
  });

  it("records the cookie's user id as the batch's author, overriding any authorship the caller claimed", async () => {
    const { api, tokens, storedBatch } = await start({});
    const { token, userId } = await tokens.issue();
    const claimed = [{ userId: "u_someone-else", name: "x", pixelCount: 1 }];
    const { seq } = await api.setPixels({ pixels: pixel, author: "ann", authors: claimed }, { headers: { cookie: `theme=dark; pp_session=${token}` } });
    const batch = await storedBatch(Number(seq));
    expect(batch.authors.map((a) => ({ userId: a.userId, name: a.name, pixelCount: a.pixelCount }))).toEqual([{ userId, name: "ann", pixelCount: 1 }]);
  });

  it("accepts a bearer session token as well as the cookie", async () => {
    const { api, tokens, storedBatch } = await start({});
    const { token, userId } = await tokens.issue();
    const { seq } = await api.setPixels({ pixels: pixel }, { headers: { authorization: `Bearer ${token}` } });
    expect((await storedBatch(Number(seq))).authors[0]?.userId).toBe(userId);
  });

  it("with SESSIONS=optional stores an anonymous write without authorship", async () => {
    const { api, storedBatch } = await start({ SESSIONS: "optional" });
    const { seq } = await api.setPixels({ pixels: pixel, authors: [{ userId: "u_claimed", name: "", pixelCount: 1 }] });
    expect((await storedBatch(Number(seq))).authors).toEqual([]);
  });

  it("keeps the authorship a trusted caller sends on the internal port, and refuses runs that do not cover the pixels", async () => {
    const { internal, storedBatch } = await start({});
    const authors = [{ userId: "u_a", name: "a", pixelCount: 1 }, { userId: "u_b", name: "", pixelCount: 1 }];
    const { seq } = await internal.setPixels({ pixels: [...pixel, { x: 0, y: 0, color: 1 }], authors });
    expect((await storedBatch(Number(seq))).authors.map((a) => a.userId)).toEqual(["u_a", "u_b"]);
    const bad = await connectFailure(internal.setPixels({ pixels: pixel, authors }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toContain("add up to 2, but the batch has 1 pixels");
  });
});

describe("admin access", () => {
  it("refuses ResetCanvas on the public /api by default, even with a valid admin token, and audits the refusal", async () => {
    const { api, audits } = await start({});
    const err = await connectFailure(api.resetCanvas({}, admin));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toContain("ADMIN_OVER_PUBLIC_API");
    expect(audits()).toEqual([{ admin: null, action: "ResetCanvas", canvasId: "default", surface: "public", result: "refused_public_api" }]);
  });

  it("serves ResetCanvas on the public /api when ADMIN_OVER_PUBLIC_API=true", async () => {
    const { api } = await start({ ADMIN_OVER_PUBLIC_API: "true" });
    expect((await api.resetCanvas({}, admin)).epoch).toBeGreaterThan(0n);
  });

  it("on the internal port, resets with a named token and logs who did it; a wrong token is denied and logged", async () => {
    const { internal, audits } = await start({});
    expect((await connectFailure(internal.resetCanvas({}, { headers: { authorization: "Bearer nope" } }))).code).toBe(Code.PermissionDenied);
    await internal.resetCanvas({ canvasId: "" }, admin);
    expect(audits()).toEqual([
      { admin: null, action: "ResetCanvas", canvasId: "default", surface: "internal", result: "denied" },
      { admin: "ops", action: "ResetCanvas", canvasId: "default", surface: "internal", result: "ok" },
    ]);
  });
});
