import { describe, expect, it } from "vitest";
import { GATEWAY_CHAOS_SHORT, runGatewayChaos } from "./harness/gateway-chaos.js";
import { formatResult } from "./harness/suite-result.js";

describe("gateway kill -9 while clients draw (short form)", () => {
  it("every affected client reconnects and resumes without a snapshot, every Ack matches its stored batch, and nothing diverges", async () => {
    const result = await runGatewayChaos(GATEWAY_CHAOS_SHORT);
    const f = result.figures;
    expect(result.failures, formatResult(result)).toEqual([]);
    expect(f.kills.length + f.skippedKills).toBe(3);
    expect(f.kills.length).toBeGreaterThan(0);
    expect(f.clientsAffected).toBeGreaterThan(0);
    expect(f.reconnectionRate).toBe(1);
    // Clients of a killed gateway resume on another (or the restarted) one from its ring, seeded
    // from the canvas history; only a client ahead of the room it lands on, or behind more than
    // the ring holds, may need a snapshot (none so far in these runs).
    expect(f.resumedReconnects + f.unavoidableSnapshots).toBe(f.disconnections);
    expect(f.acksAheadOfStorage).toBe(0);
    expect(f.verifiedPlacements).toBe(f.outcomes.acked);
    expect(f.lostAckedPixels).toBe(0);
    expect(f.ackedPixels).toBeGreaterThan(0);
    expect(f.divergentPixels).toBe(0);
    expect(f.unanswered).toBe(0);
  }, 120_000);
});
