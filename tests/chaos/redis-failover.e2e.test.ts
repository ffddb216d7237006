import { describe, expect, it } from "vitest";
import { REDIS_FAILOVER_SHORT, runRedisFailover } from "./harness/redis-failover.js";
import { formatResult } from "./harness/suite-result.js";

describe("kill -9 of the Redis Cluster primary that owns the busy canvas while clients draw (short form)", () => {
  it("loses no acked pixel, writes succeed again after the promotion, every placement is answered and every client converges", async () => {
    const result = await runRedisFailover(REDIS_FAILOVER_SHORT);
    expect(result.failures, formatResult(result)).toEqual([]);
    const f = result.figures.failover;
    expect(f.lostAckedPixels).toBe(0);
    expect(f.ackedPixels).toBeGreaterThan(0);
    // A correctness claim (writes come back), not a timing: the 5 s goal is the full form's (npm run chaos -- redis-failover).
    expect(f.firstNewAckAfterKillMs).toBeLessThanOrEqual(REDIS_FAILOVER_SHORT.resumeBoundMs);
    expect(f.unanswered).toBe(0);
    expect(f.divergentPixels).toBe(0);
    expect(f.epochAfter).toBe(f.epochBefore);
    expect(f.promotedPort).not.toBe(f.killedPort);
  }, 120_000);
});
