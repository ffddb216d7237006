import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { loadConfig, MAX_PIXELS_PER_CALL, type Config } from "../shared/config.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { parseAdminCredentials } from "../shared/security-config.js";
import { adminAccess } from "./admin-access.js";
import { createCanvasInterceptor } from "./canvas-interceptor.js";
import { createCanvasRoutes, type CanvasRoutesDeps } from "./canvas-routes.js";
import { rpcErrors } from "./canvas-metrics.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { connectFailure } from "../../tests/support/connect-failure.js";
import { capturedLogger } from "../shared/test-support/captured-logger.js";

const logger = pino({ level: "silent" });

/**
 * A client of the canvas routes with the interceptors the internal adapter gets, in memory: failures
 * mapped, and admin RPCs guarded by the credentials in `env`.
 */
function routesClient(deps: CanvasRoutesDeps, env: Record<string, string> = {}): Client<typeof CanvasService> {
  const admin = adminAccess({ credentials: parseAdminCredentials(env.ADMIN_TOKENS, env.ADMIN_TOKEN), overPublicApi: false, surface: "internal", logger: deps.logger });
  return createClient(CanvasService, createRouterTransport(createCanvasRoutes(deps), { router: { interceptors: [createCanvasInterceptor(deps.logger), admin] } }));
}

describe("CanvasRoutes (embedded store, in-memory transport)", () => {
  let store: MemoryCanvasStore;
  let bus: MemoryPixelBus;
  let client: Client<typeof CanvasService>;
  let config: Config;

  const setup = (env: Record<string, string>, historyLimit?: number) => {
    config = loadConfig({ CANVAS_WIDTH: "8", CANVAS_HEIGHT: "4", CANVAS_IDS: "default,other", ...env });
    bus = new MemoryPixelBus();
    store = new MemoryCanvasStore({ width: 8, height: 4, bus, logger, historyLimit });
    client = routesClient({ config, store, bus, logger }, env);
  };
  beforeEach(() => setup({}));
  afterEach(async () => store.close());

  it("stores a batch under the default canvas for an empty canvas_id and reads it back", async () => {
    const { seq, epoch } = await client.setPixels({ canvasId: "", pixels: [{ x: 7, y: 3, color: 0x102030 }], author: "ann" });
    expect(seq).toBe(1n);
    const snap = await client.getCanvas({});
    expect(snap.canvasId).toBe("default");
    expect([snap.width, snap.height, snap.seq, snap.epoch]).toEqual([8, 4, 1n, epoch]);
    const o = (3 * 8 + 7) * 3;
    expect([...snap.pixels.subarray(o, o + 3)]).toEqual([0x10, 0x20, 0x30]);
    expect([...snap.pixels.subarray(0, 3)]).toEqual([0xff, 0xff, 0xff]);
  });

  const rejected: [string, () => { x: number; y: number; color: number }[], RegExp][] = [
    ["x out of range", () => [{ x: 1, y: 1, color: 1 }, { x: 8, y: 0, color: 1 }], /pixel 1 \(x=8, y=0\) is outside the 8x4 canvas/],
    ["y out of range", () => [{ x: 0, y: 4, color: 1 }], /pixel 0 \(x=0, y=4\) is outside/],
    ["colour above 0xFFFFFF", () => [{ x: 0, y: 0, color: 1 }, { x: 2, y: 3, color: 0x1000000 }], /pixel 1 \(x=2, y=3\) has color 0x1000000, above 0xffffff/],
    ["an empty batch", () => [], /the batch is empty/],
    ["too many pixels", () => Array.from({ length: MAX_PIXELS_PER_CALL + 1 }, () => ({ x: 0, y: 0, color: 0 })), /has 10001 pixels; at most 10000/],
  ];
  for (const [name, pixels, message] of rejected) {
    it(`rejects ${name} with InvalidArgument naming the problem and writes nothing`, async () => {
      await client.setPixels({ pixels: [{ x: 0, y: 0, color: 0x0000ff }] });
      const before = await client.getCanvas({});
      const err = await connectFailure(client.setPixels({ pixels: pixels() }));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toMatch(message);
      const after = await client.getCanvas({});
      expect(after.seq).toBe(before.seq);
      expect(Buffer.from(after.pixels).equals(Buffer.from(before.pixels))).toBe(true);
    });
  }

  it("rejects an author longer than 32 characters", async () => {
    const err = await connectFailure(client.setPixels({ pixels: [{ x: 0, y: 0, color: 1 }], author: "a".repeat(33) }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^author: the name has 33 characters/);
  });

  it("answers NotFound for a canvas this deployment does not have", async () => {
    const err = await connectFailure(client.getCanvas({ canvasId: "nope" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toContain('canvas "nope" does not exist');
    expect((await connectFailure(client.setPixels({ canvasId: "nope", pixels: [{ x: 0, y: 0, color: 1 }] }))).code).toBe(Code.NotFound);
  });

  it("keeps canvases apart", async () => {
    await client.setPixels({ canvasId: "other", pixels: [{ x: 0, y: 0, color: 0 }] });
    expect((await client.getCanvas({ canvasId: "other" })).seq).toBe(1n);
    expect((await client.getCanvas({})).seq).toBe(0n);
  });

  it("answers an unexpected store fault with Internal and generic text quoting the request id, never the cause", async () => {
    class FaultyStore extends MemoryCanvasStore {
      override async getCanvas(): Promise<never> {
        throw new Error("secret detail of the fault");
      }
    }
    const faulty = new FaultyStore({ width: 8, height: 4, bus, logger });
    const faultyClient = routesClient({ config, store: faulty, bus, logger });
    const err = await connectFailure(faultyClient.getCanvas({}, { headers: { "x-request-id": "req-42" } }));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error (request id req-42)");
    await faulty.close();
  });

  it("through the interceptor, logs a fault with method and request id and counts every failure by method and code, streams included", async () => {
    class FaultyStore extends MemoryCanvasStore {
      override async history(): Promise<never> {
        throw new Error("secret detail of the fault");
      }
    }
    const { logger: debugLogger, lines } = capturedLogger("debug");
    const faulty = new FaultyStore({ width: 8, height: 4, bus, logger });
    const faultyClient = routesClient({ config, store: faulty, bus, logger: debugLogger });
    const count = async (method: string, code: string) => (await rpcErrors.get()).values.find((v) => v.labels.method === method && v.labels.code === code)?.value ?? 0;
    const [internalBefore, notFoundBefore] = [await count("WatchCanvas", "internal"), await count("GetCanvas", "not_found")];

    const err = await connectFailure((async () => {
      for await (const _ of faultyClient.watchCanvas({ afterSeq: 1n }, { headers: { "x-request-id": "req-7" } })) break;
    })());
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).toBe("internal error (request id req-7)");
    expect(lines).toContainEqual(expect.objectContaining({ method: "WatchCanvas", requestId: "req-7", msg: "internal error" }));
    expect(await count("WatchCanvas", "internal")).toBe(internalBefore + 1);

    expect((await connectFailure(faultyClient.getCanvas({ canvasId: "nope" }))).code).toBe(Code.NotFound);
    expect(await count("GetCanvas", "not_found")).toBe(notFoundBefore + 1);
    await faulty.close();
  });

  it("answers Unavailable while the store is unavailable", async () => {
    await store.close();
    const err = await connectFailure(client.setPixels({ pixels: [{ x: 0, y: 0, color: 1 }] }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toBe("the canvas storage is unavailable; retry shortly");
  });

  it("answers Unimplemented for ResetCanvas when no admin credential is configured", async () => {
    const err = await connectFailure(client.resetCanvas({}));
    expect(err.code).toBe(Code.Unimplemented);
    expect(err.rawMessage).toContain("set ADMIN_TOKENS");
  });

  it("resets only with the right bearer token (deprecated ADMIN_TOKEN), clearing the canvas into a new epoch", async () => {
    await store.close();
    setup({ ADMIN_TOKEN: "s3cret" });
    const { epoch } = await client.setPixels({ pixels: [{ x: 1, y: 1, color: 0 }] });
    expect((await connectFailure(client.resetCanvas({}))).code).toBe(Code.PermissionDenied);
    expect((await connectFailure(client.resetCanvas({}, { headers: { authorization: "Bearer wrong" } }))).code).toBe(Code.PermissionDenied);
    const reset = await client.resetCanvas({}, { headers: { authorization: "Bearer s3cret" } });
    expect(reset.epoch).not.toBe(epoch);
    const snap = await client.getCanvas({});
    expect(snap.seq).toBe(0n);
    expect(snap.epoch).toBe(reset.epoch);
    expect(snap.pixels.every((b) => b === 0xff)).toBe(true);
  });

  it("WatchCanvas replays history after after_seq, then follows live batches in order", async () => {
    for (let i = 0; i < 5; i++) await client.setPixels({ pixels: [{ x: i, y: 0, color: i }] });
    const abort = new AbortController();
    const seen: bigint[] = [];
    const watching = (async () => {
      for await (const res of client.watchCanvas({ afterSeq: 2n }, { signal: abort.signal })) {
        seen.push(res.batch!.seq);
        if (seen.length === 5) abort.abort();
      }
    })().catch((err: unknown) => {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    });
    await new Promise((r) => setTimeout(r, 20));
    await client.setPixels({ pixels: [{ x: 6, y: 0, color: 6 }] });
    await client.setPixels({ pixels: [{ x: 7, y: 0, color: 7 }] });
    await watching;
    expect(seen).toEqual([3n, 4n, 5n, 6n, 7n]);
  });

  it("WatchCanvas rejects an after_seq older than the retained history with OutOfRange", async () => {
    await store.close();
    setup({}, 3);
    for (let i = 0; i < 300; i++) await client.setPixels({ pixels: [{ x: 0, y: 0, color: i }] });
    const err = await connectFailure((async () => {
      for await (const _ of client.watchCanvas({ afterSeq: 1n })) break;
    })());
    expect(err.code).toBe(Code.OutOfRange);
    expect(err.rawMessage).toMatch(/after_seq 1 is not covered by the retained history.*GetCanvas/);
  });

  it("WatchCanvas ends with FailedPrecondition when the canvas starts a new epoch", async () => {
    await store.close();
    setup({ ADMIN_TOKEN: "t" });
    await client.setPixels({ pixels: [{ x: 0, y: 0, color: 1 }] });
    const err = connectFailure((async () => {
      for await (const _ of client.watchCanvas({ afterSeq: 1n })) {
        // no batch is expected before the reset
      }
    })());
    await new Promise((r) => setTimeout(r, 20));
    await client.resetCanvas({}, { headers: { authorization: "Bearer t" } });
    const failure = await err;
    expect(failure.code).toBe(Code.FailedPrecondition);
    expect(failure.rawMessage).toContain("new epoch");
  });
});
