import { describe, expect, it } from "vitest";
import { LOAD_BALANCING_SHORT, runLoadBalancing } from "./harness/load-balancing.js";
import { formatResult } from "./harness/suite-result.js";

describe("load balancing through haproxy (short form)", () => {
  it("spreads 24 clients over 4 gateways and every acked pixel reaches every client", async () => {
    const result = await runLoadBalancing(LOAD_BALANCING_SHORT);
    const f = result.figures;
    expect(result.failures, formatResult(result)).toEqual([]);
    expect(Object.keys(f.connectionsPerGateway)).toHaveLength(4);
    expect(Object.values(f.connectionsPerGateway).every((n) => n > 0)).toBe(true);
    expect(Object.values(f.connectionsPerGateway).reduce((a, b) => a + b, 0)).toBe(24);
    expect(f.ackedPixels).toBe(24 * LOAD_BALANCING_SHORT.placesPerClient);
    expect(f.deliveries).toBe(f.expectedDeliveries);
    expect(f.divergentPixels).toBe(0);
    expect(f.lostAckedPixels).toBe(0);
  }, 90_000);
});
