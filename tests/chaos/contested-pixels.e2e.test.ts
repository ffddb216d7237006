import { describe, expect, it } from "vitest";
import { CONTESTED_SHORT, runContestedPixels } from "./harness/contested-pixels.js";
import { formatResult } from "./harness/suite-result.js";

describe.each([
  { redis: "one redis-server", redisShards: 0 },
  { redis: "a 3-shard Redis Cluster (SPUBLISH, sharded subscribers, WAIT 1)", redisShards: 3 },
])("contested pixels across gateways on $redis (short form)", ({ redisShards }) => {
  it("20 clients on 2 gateways hammering 10 pixels converge byte for byte with GetCanvas and each other", async () => {
    const result = await runContestedPixels({ ...CONTESTED_SHORT, redisShards });
    const f = result.figures;
    expect(result.failures, formatResult(result)).toEqual([]);
    expect(Object.values(f.clientsPerGateway)).toEqual([10, 10]);
    expect(f.acked).toBeGreaterThan(0);
    expect(f.writesPerContestedPixel).toBeGreaterThan(20);
    expect(f.divergentPixels).toBe(0);
    expect(f.divergentClients).toBe(0);
    expect(f.lostAckedPixels).toBe(0);
  }, 90_000);
});
