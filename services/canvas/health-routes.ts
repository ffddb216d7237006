import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status, type HealthCheckRequest } from "../../gen/grpc/health/v1/health_pb.js";
import { HEALTH_WATCH_POLL_MS } from "../shared/timing.js";

/**
 * The health name of liveness probes: SERVING for as long as the process answers, whatever
 * Redis does, so a Redis outage makes canvas pods unready but never restarts them.
 */
export const LIVENESS_SERVICE = "liveness";

/** Services whose status follows readiness: "" (the whole server) and the canvas service. */
const READINESS_SERVICES = new Set(["", CanvasService.typeName]);

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
 * grpc.health.v1.Health, as Kubernetes' native gRPC probes use it. "" and pixel.v1.CanvasService are
 * SERVING while `isReady()` (store reachable, not draining) and NOT_SERVING otherwise;
 * LIVENESS_SERVICE is always SERVING. Check of an unknown service
 * answers NotFound; Watch of one streams SERVICE_UNKNOWN, as the protocol specifies.
 */
export function createHealthRoutes(isReady: () => boolean): (router: ConnectRouter) => void {
  const statusOf = (service: string): Status | undefined => {
    if (service === LIVENESS_SERVICE) return Status.SERVING;
    if (!READINESS_SERVICES.has(service)) return undefined;
    return isReady() ? Status.SERVING : Status.NOT_SERVING;
  };
  return (router) =>
    void router.service(Health, {
      check(req: HealthCheckRequest) {
        const status = statusOf(req.service);
        if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
        return { status };
      },
      async *watch(req: HealthCheckRequest, ctx: HandlerContext) {
        let last: Status | undefined;
        while (!ctx.signal.aborted) {
          const now = statusOf(req.service) ?? Status.SERVICE_UNKNOWN;
          if (now !== last) {
            last = now;
            yield { status: now };
          }
          await sleep(HEALTH_WATCH_POLL_MS, ctx.signal);
        }
      },
    });
}
