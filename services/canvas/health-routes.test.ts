import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { HEALTH_WATCH_POLL_MS } from "../shared/timing.js";
import { createHealthRoutes, LIVENESS_SERVICE } from "./health-routes.js";

describe("Health routes", () => {
  it("Check reflects readiness for the server and the canvas service, and refuses unknown services", async () => {
    let ready = true;
    const health = createClient(Health, createRouterTransport(createHealthRoutes(() => ready)));
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
    ready = false;
    expect((await health.check({ service: "pixel.v1.CanvasService" })).status).toBe(Status.NOT_SERVING);
    const err = await health.check({ service: "other.Service" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it("the liveness name stays SERVING while the store is unreachable (a Redis outage must not restart pods)", async () => {
    const health = createClient(Health, createRouterTransport(createHealthRoutes(() => false)));
    expect((await health.check({ service: "" })).status).toBe(Status.NOT_SERVING);
    expect((await health.check({ service: LIVENESS_SERVICE })).status).toBe(Status.SERVING);
  });

  it("Watch sends the current status, then each change", async () => {
    let ready = true;
    const health = createClient(Health, createRouterTransport(createHealthRoutes(() => ready)));
    const abort = new AbortController();
    const seen: Status[] = [];
    const watching = (async () => {
      for await (const res of health.watch({ service: "" }, { signal: abort.signal })) {
        seen.push(res.status);
        if (seen.length === 1) ready = false;
        if (seen.length === 2) abort.abort();
      }
    })().catch((e: unknown) => {
      if (ConnectError.from(e).code !== Code.Canceled) throw e;
    });
    await watching;
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
  }, HEALTH_WATCH_POLL_MS * 10);

  it("Watch of an unknown service streams SERVICE_UNKNOWN", async () => {
    const health = createClient(Health, createRouterTransport(createHealthRoutes(() => true)));
    const stream = health.watch({ service: "other.Service" })[Symbol.asyncIterator]();
    const first = await stream.next();
    await stream.return?.();
    expect(first.done).toBe(false);
    expect(first.value?.status).toBe(Status.SERVICE_UNKNOWN);
  });
});
