import { Code, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fromBinary } from "@bufbuild/protobuf";
import { CanvasService, PixelBatchSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { loadConfig } from "../shared/config.js";
import { MemoryPixelBus } from "../shared/pixel-bus.js";
import { connectFailure } from "../../tests/support/connect-failure.js";
import { parseBudgetSettings } from "./budget-settings.js";
import { createCanvasInterceptor } from "./canvas-interceptor.js";
import { createCanvasRoutes } from "./canvas-routes.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";

const logger = pino({ level: "silent" });
const px = (n: number, y = 0) => Array.from({ length: n }, (_, i) => ({ x: i % 8, y, color: 0x123456 }));

describe("SetPixels under placement budgets (embedded store, in-memory transport)", () => {
  let store: MemoryCanvasStore;
  let client: Client<typeof CanvasService>;

  beforeEach(() => {
    const env = { CANVAS_WIDTH: "8", CANVAS_HEIGHT: "4", CANVAS_BUDGETS: "default:rate=10,burst=10", IP_BUDGET_FACTOR: "0" };
    const config = loadConfig(env);
    const bus = new MemoryPixelBus();
    store = new MemoryCanvasStore({ width: 8, height: 4, bus, logger, budgets: parseBudgetSettings(env, config) });
    client = createClient(CanvasService, createRouterTransport(createCanvasRoutes({ config, store, bus, logger }), { router: { interceptors: [createCanvasInterceptor(logger)] } }));
  });
  afterEach(async () => store.close());

  it("answers one result per Author run: stored runs in the batch, refused ones with their wait", async () => {
    const res = await client.setPixels({
      pixels: px(12),
      authors: [{ userId: "ann", pixelCount: 6 }, { userId: "ann", pixelCount: 6 }],
    });
    expect(res.seq).toBe(1n);
    expect(res.results.map((r) => r.stored)).toEqual([true, false]);
    expect(res.results[0]!.retryAfterMs).toBe(0);
    expect(res.results[1]!.retryAfterMs).toBeGreaterThan(100);
  });

  it("publishes the authorship of the stored runs only, and never their network keys", async () => {
    await client.setPixels({
      pixels: px(12),
      authors: [
        { userId: "ann", name: "Ann", pixelCount: 6, ipKey: "192.0.2.1" },
        { userId: "ann", name: "Ann", pixelCount: 6, ipKey: "192.0.2.1" },
      ],
    });
    const [published] = (await store.history("default", 0, 10))!;
    const batch = fromBinary(PixelBatchSchema, published!);
    expect(batch.pixels).toHaveLength(6);
    expect(batch.authors.map((a) => ({ userId: a.userId, name: a.name, pixelCount: a.pixelCount, ipKey: a.ipKey }))).toEqual([{ userId: "ann", name: "Ann", pixelCount: 6, ipKey: "" }]);
    expect(Buffer.from(published!).includes("192.0.2.1")).toBe(false);
  });

  it("refuses a request without authors that is over its caller's anonymous budget with RESOURCE_EXHAUSTED and the wait", async () => {
    await client.setPixels({ pixels: px(10) });
    const failure = await connectFailure(client.setPixels({ pixels: px(1, 1) }));
    expect(failure.code).toBe(Code.ResourceExhausted);
    expect(failure.rawMessage).toMatch(/placement budget; nothing was stored, retry after \d+ ms/);
  });

  it.each([
    ["authors that do not cover the pixels", { pixels: px(3), authors: [{ userId: "a", pixelCount: 2 }] }, /pixel_count values add up to 2, but the batch has 3 pixels/],
    ["a run of zero pixels", { pixels: px(1), authors: [{ userId: "a", pixelCount: 0 }, { userId: "a", pixelCount: 1 }] }, /authors\[0\].pixel_count must be at least 1/],
    ["a run bigger than the budget's burst", { pixels: px(11), authors: [{ userId: "a", pixelCount: 11 }] }, /a placement of 11 pixels exceeds this canvas's budget of 10 pixels at once/],
  ])("refuses %s with INVALID_ARGUMENT", async (_, request, message) => {
    const failure = await connectFailure(client.setPixels(request));
    expect(failure.code).toBe(Code.InvalidArgument);
    expect(failure.rawMessage).toMatch(message);
  });
});
