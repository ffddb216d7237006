import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status, type HealthCheckRequest } from "../../gen/grpc/health/v1/health_pb.js";

/** How often a Health.Watch stream re-reads readiness to report a change. */
export const HEALTH_WATCH_POLL_MS = 500;

/** Services Check and Watch know: "" (the whole server) and the canvas service. */
const KNOWN_SERVICES = new Set(["", CanvasService.typeName]);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * grpc.health.v1.Health, as Kubernetes' native gRPC probes use it. A known service is SERVING while
 * `isReady()` (store reachable, not draining) and NOT_SERVING otherwise. Check of an unknown service
 * answers NotFound; Watch of one streams SERVICE_UNKNOWN, as the protocol specifies.
 */
export function createHealthRoutes(isReady: () => boolean): (router: ConnectRouter) => void {
  const status = () => (isReady() ? Status.SERVING : Status.NOT_SERVING);
  return (router) =>
    void router.service(Health, {
      check(req: HealthCheckRequest) {
        if (!KNOWN_SERVICES.has(req.service)) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
        return { status: status() };
      },
      async *watch(req: HealthCheckRequest, ctx: HandlerContext) {
        const known = KNOWN_SERVICES.has(req.service);
        let last: Status | undefined;
        while (!ctx.signal.aborted) {
          const now = known ? status() : Status.SERVICE_UNKNOWN;
          if (now !== last) {
            last = now;
            yield { status: now };
          }
          await sleep(HEALTH_WATCH_POLL_MS, ctx.signal);
        }
      },
    });
}
