import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ClientFrameSchema, CloseCode, ErrorCode, ServerFrameSchema, type ClientFrame, type ServerFrame } from "../../../gen/pixel/v1/realtime_pb.js";
import { waitFor } from "../../../tools/process/free-port.js";
import { loadConfig } from "../../shared/config.js";
import { MemoryPixelBus } from "../../shared/pixel-bus.js";
import { loadSecurityConfig } from "../../shared/security-config.js";
import { generateSessionKey, parseSessionKeys, SessionTokens } from "../../shared/session-token.js";
import { MemoryPresenceStore } from "../presence/presence.js";
import { FakeCanvasService } from "../test-support/fake-canvas.js";
import { quietLog } from "../test-support/test-helpers.js";
import { createGatewayServer, type GatewayServer } from "./gateway-server.js";

// In-process gateway with identity settings on a real port; the canvas service is the in-memory fake.

const servers: GatewayServer[] = [];
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  for (const s of servers.splice(0)) await s.shutdown(0);
});

async function start(env: Record<string, string> = {}) {
  const bus = new MemoryPixelBus();
  const tokens = new SessionTokens(parseSessionKeys(generateSessionKey()), 3600);
  const gw = createGatewayServer({
    config: loadConfig({}),
    log: quietLog,
    bus,
    canvas: new FakeCanvasService(bus, 8, 8),
    presence: new MemoryPresenceStore("g1", 1000),
    identity: { tokens, security: loadSecurityConfig(env) },
  });
  servers.push(gw);
  await new Promise<void>((resolve) => gw.server.listen(0, "127.0.0.1", resolve));
  const address = gw.server.address();
  return { tokens, port: typeof address === "object" && address ? address.port : 0 };
}

/** A socket that records the frames it receives and how it was closed. */
async function open(port: number, cookie?: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: cookie === undefined ? {} : { cookie } });
  clients.push(ws);
  const frames: ServerFrame["frame"][] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on("message", (data: Buffer) => frames.push(fromBinary(ServerFrameSchema, data).frame));
  ws.on("close", (code, reason) => (closed = { code, reason: reason.toString() }));
  ws.on("error", () => undefined);
  await new Promise<void>((resolve) => ws.once("open", () => resolve()));
  const send = (frame: ClientFrame["frame"]) => ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame })));
  const of = <C extends NonNullable<ServerFrame["frame"]["case"]>>(kind: C) => frames.filter((f) => f.case === kind).map((f) => f.value as Extract<ServerFrame["frame"], { case: C }>["value"]);
  const joinAndPlace = async () => {
    send({ case: "hello", value: { canvasId: "", name: "ann", lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never });
    await waitFor("welcome", () => of("welcome").length > 0, 5_000, 5);
    // Watches the tile it draws on, so its own batch comes back.
    send({ case: "watch", value: { tiles: [{ tx: 0, ty: 0 }], afterSeq: 0n, afterEpoch: 0n } as never });
    await waitFor("watching", () => of("watching").length > 0, 5_000, 5);
    send({ case: "place", value: { clientSeq: 1, pixels: [{ x: 1, y: 1, color: 5 }] } as never });
    await waitFor("ack or error", () => of("ack").length + of("error").length > 0, 5_000, 5);
  };
  return { ws, of, joinAndPlace, closed: () => closed };
}

describe("sessions on the gateway", () => {
  it("POST /session on the gateway's listener gives a cookie whose socket places, the batch carrying the user id", async () => {
    const { port } = await start();
    const res = await fetch(`http://127.0.0.1:${port}/session`, { method: "POST" });
    const { userId } = (await res.json()) as { userId: string };
    const c = await open(port, res.headers.getSetCookie()[0]!.split(";")[0]);
    await c.joinAndPlace();
    expect(c.of("ack")).toHaveLength(1);
    await waitFor("batch", () => c.of("batch").length > 0, 5_000, 5);
    expect(c.of("batch")[0]!.authors.map((a) => [a.userId, a.name, a.pixelCount])).toEqual([[userId, "ann", 1]]);
  });

  it("a socket without a session may watch, but its Place gets UNAUTHENTICATED", async () => {
    const { port } = await start();
    const c = await open(port);
    await c.joinAndPlace();
    expect(c.of("welcome")).toHaveLength(1);
    expect(c.of("error").map((e) => [e.code, e.clientSeq])).toEqual([[ErrorCode.UNAUTHENTICATED, 1]]);
  });

  it("a forged or expired token counts as no session", async () => {
    const { port, tokens } = await start();
    const forged = await new SessionTokens(parseSessionKeys(generateSessionKey()), 3600).issue();
    const expired = await tokens.issue(undefined, Math.floor(Date.now() / 1000) - 7200);
    for (const token of [forged.token, expired.token]) {
      const c = await open(port, `pp_session=${token}`);
      await c.joinAndPlace();
      expect(c.of("error")[0]?.code).toBe(ErrorCode.UNAUTHENTICATED);
    }
  });

  it("with SESSIONS=optional a socket without a session places as anon-<connection id>", async () => {
    const { port } = await start({ SESSIONS: "optional" });
    const c = await open(port);
    await c.joinAndPlace();
    await waitFor("batch", () => c.of("batch").length > 0, 5_000, 5);
    expect(c.of("batch")[0]!.authors[0]?.userId).toBe(`anon-${c.of("welcome")[0]!.connectionId}`);
  });

  it("caps open sockets per address: one over MAX_CONNECTIONS_PER_IP is closed with 1013 and a reason; a slot freed admits again", async () => {
    const { port } = await start({ MAX_CONNECTIONS_PER_IP: "2" });
    const first = await open(port);
    await open(port);
    const third = await open(port);
    await waitFor("third closed", () => third.closed() !== undefined, 5_000, 5);
    expect(third.closed()!.code).toBe(CloseCode.TRY_AGAIN_LATER);
    expect(third.closed()!.reason).toContain("at most 2 per gateway");
    first.ws.close();
    await waitFor("first closed", () => first.closed() !== undefined, 5_000, 5);
    const fourth = await open(port);
    await new Promise((r) => setTimeout(r, 100));
    expect(fourth.closed()).toBeUndefined();
  });
});
