import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ClientFrameSchema, ServerFrameSchema } from "../../../gen/pixel/v1/realtime_pb.js";
import { waitFor } from "../../../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../../../tools/process/redis-server.js";
import { loadConfig } from "../../shared/config.js";
import { MemoryPixelBus } from "../../shared/pixel-bus.js";
import { canvasKeys } from "../../shared/redis-keys.js";
import { FakeCanvasService } from "../test-support/fake-canvas.js";
import { createGatewayServer, type GatewayServer } from "../transport/gateway-server.js";
import { RedisPresenceStore } from "./presence.js";
import { quietLog } from "../test-support/test-helpers.js";

// Two gateways in this process share presence through a real redis-server; short TTLs via tuning.
const PRESENCE_TTL_MS = 500;
const PRESENCE_INTERVAL_MS = 100;

/** A WebSocket client that joins the default canvas and keeps the last Presence it was sent. */
class PresenceClient {
  last: { online: number; names: string[] } | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const frame = fromBinary(ServerFrameSchema, data).frame;
      if (frame.case === "presence") this.last = { online: frame.value.online, names: [...frame.value.names] };
    });
    ws.on("error", () => undefined);
  }
  static async join(port: number, name: string): Promise<PresenceClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: { canvasId: "", name, lastSeq: 0n, lastEpoch: 0n, protocol: 2 } as never } })));
    return new PresenceClient(ws);
  }
}

describe("Redis presence across two gateways", () => {
  let redis: TestRedis;
  let inspector: Redis;
  const servers: GatewayServer[] = [];
  const stores: RedisPresenceStore[] = [];
  const clients: PresenceClient[] = [];

  async function startGateway(instanceId: string): Promise<{ port: number; server: GatewayServer; presence: RedisPresenceStore }> {
    const bus = new MemoryPixelBus();
    const presence = new RedisPresenceStore(redis.url, instanceId, PRESENCE_TTL_MS, quietLog);
    const server = createGatewayServer({
      config: loadConfig({ INSTANCE_ID: instanceId }),
      log: quietLog,
      bus,
      canvas: new FakeCanvasService(bus, 8, 8),
      presence,
      tuning: { presenceTtlMs: PRESENCE_TTL_MS, presenceIntervalMs: PRESENCE_INTERVAL_MS, presenceDebounceMs: 20 },
    });
    servers.push(server);
    stores.push(presence);
    await new Promise<void>((resolve) => server.server.listen(0, "127.0.0.1", resolve));
    const address = server.server.address();
    return { port: typeof address === "object" && address ? address.port : 0, server, presence };
  }

  beforeAll(async () => {
    redis = await startRedis({ appendonly: false });
    inspector = new Redis(redis.url);
  });

  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    for (const s of servers) await s.shutdown(0);
    for (const p of stores) await p.close();
    inspector?.disconnect();
    await redis?.stop();
  });

  it("merges counts and names of both gateways, and drops a dead gateway's members once its entry passed PRESENCE_TTL_MS", async () => {
    const a = await startGateway("gw-a");
    const b = await startGateway("gw-b");
    const onA = await PresenceClient.join(a.port, "ann");
    clients.push(onA);
    const onB = await PresenceClient.join(b.port, "bob");
    const anonymousOnB = await PresenceClient.join(b.port, "");
    clients.push(onB, anonymousOnB);

    // Each side sees the other's members: 3 online, the two non-empty names sorted.
    const merged = { online: 3, names: ["ann", "bob"] };
    await waitFor("merged presence on both gateways", () => JSON.stringify(onA.last) === JSON.stringify(merged) && JSON.stringify(onB.last) === JSON.stringify(merged), 5_000, 10);
    expect(Object.keys(await inspector.hgetall(canvasKeys("default").presence)).sort()).toEqual(["gw-a", "gw-b"]);

    // Gateway B dies: its Redis connection goes first, so nothing withdraws its entry, as after kill -9.
    await b.presence.close();
    await b.server.shutdown(0);
    const diedAt = Date.now();
    expect(await inspector.hexists(canvasKeys("default").presence, "gw-b")).toBe(1);

    await waitFor("A counts only its own member", () => onA.last?.online === 1, 5_000, 10);
    const dropped = Date.now() - diedAt;
    expect(onA.last).toEqual({ online: 1, names: ["ann"] });
    // Not before B's last refresh expired (at most one interval before it died), not much after.
    expect(dropped).toBeGreaterThanOrEqual(PRESENCE_TTL_MS - PRESENCE_INTERVAL_MS - 20);
    expect(dropped).toBeLessThan(PRESENCE_TTL_MS + 1_500);
    // The expired field was deleted by A's next sync.
    expect(await inspector.hexists(canvasKeys("default").presence, "gw-b")).toBe(0);
  });
});
