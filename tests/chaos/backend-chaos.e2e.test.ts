import { describe, expect, it } from "vitest";
import { BACKEND_CHAOS_SHORT, runBackendChaos } from "./harness/backend-chaos.js";
import { formatResult } from "./harness/suite-result.js";

describe("Redis and canvas replica kill -9 while clients draw (short form)", () => {
  it("loses no acked pixel, answers every placement (errors, never silence) and writes succeed after the restart", async () => {
    const result = await runBackendChaos(BACKEND_CHAOS_SHORT);
    expect(result.failures, formatResult(result)).toEqual([]);
    const [redis, canvas] = result.figures.faults;
    for (const f of [redis, canvas]) {
      expect(f?.lostAckedPixels).toBe(0);
      expect(f?.ackedPixels).toBeGreaterThan(0);
      expect(f?.unanswered).toBe(0);
      expect(f?.divergentPixels).toBe(0);
      expect(f?.epochAfter).toBe(f?.epochBefore);
    }
    // While Redis was down clients were told (errors or connection losses), not left waiting.
    const heard = Object.entries(redis?.duringFault ?? {}).filter(([k]) => k !== "acked").reduce((n, [, v]) => n + v, 0);
    expect(heard).toBeGreaterThan(0);
  }, 120_000);
});
