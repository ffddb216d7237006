import { describe, expect, it } from "vitest";
import { GATEWAY_CHAOS_SHORT, runGatewayChaos } from "./harness/gateway-chaos.js";
import { formatResult } from "./harness/suite-result.js";

describe("gateway kill -9 while clients draw (short form)", () => {
  it("every affected client reconnects, no acked pixel is lost, and nothing diverges", async () => {
    const result = await runGatewayChaos(GATEWAY_CHAOS_SHORT);
    const f = result.figures;
    expect(result.failures, formatResult(result)).toEqual([]);
    expect(f.kills.length + f.skippedKills).toBe(3);
    expect(f.kills.length).toBeGreaterThan(0);
    expect(f.clientsAffected).toBeGreaterThan(0);
    expect(f.reconnectionRate).toBe(1);
    expect(f.lostAckedPixels).toBe(0);
    expect(f.ackedPixels).toBeGreaterThan(0);
    expect(f.divergentPixels).toBe(0);
    expect(f.unanswered).toBe(0);
  }, 120_000);
});
