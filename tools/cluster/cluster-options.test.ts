import { describe, expect, it } from "vitest";
import { parseClusterArgs, UsageError } from "./cluster-options.js";

describe("parseClusterArgs", () => {
  it("defaults to 4 gateways, 2 canvases, port 3000, appendfsync everysec and replicas in their own process groups", () => {
    const o = parseClusterArgs([]);
    expect(o).not.toBe("help");
    if (o === "help") return;
    expect([o.gateways, o.canvases, o.port, o.appendfsync, o.canvasRouting, o.web, o.ownProcessGroups, o.history]).toEqual([4, 2, 3000, "everysec", "balancer", true, true, "off"]);
  });

  it("reads every count, port, policy and repeated --env, in both --flag value and --flag=value forms", () => {
    const o = parseClusterArgs(["--gateways", "3", "--canvases=1", "--port", "0", "--appendfsync", "always", "--env", "PIXELS_PER_SECOND=100000", "--env=LOG_LEVEL=warn", "--no-web", "--ws-balance", "leastconn", "--canvas-routing", "direct", "--gateway-port-base", "4000", "--history", "postgres"]);
    if (o === "help") throw new Error("unexpected help");
    expect(o).toMatchObject({ gateways: 3, canvases: 1, port: 0, appendfsync: "always", web: false, wsBalance: "leastconn", canvasRouting: "direct", gatewayPortBase: 4000, history: "postgres" });
    expect(o.env).toEqual({ PIXELS_PER_SECOND: "100000", LOG_LEVEL: "warn" });
  });

  it("runs on one redis-server by default and on a local Redis Cluster with --redis cluster", () => {
    const single = parseClusterArgs([]);
    const cluster = parseClusterArgs(["--redis", "cluster", "--redis-shards", "3", "--redis-replicas=2"]);
    if (single === "help" || cluster === "help") throw new Error("unexpected help");
    expect([single.redisMode, single.redisShards, single.redisReplicas]).toEqual(["single", 3, 1]);
    expect([cluster.redisMode, cluster.redisShards, cluster.redisReplicas]).toEqual(["cluster", 3, 2]);
    expect(() => parseClusterArgs(["--redis", "sentinel"])).toThrow(/--redis must be one of single, cluster/);
    expect(() => parseClusterArgs(["--redis", "cluster", "--redis-url", "redis://x:1"])).toThrow(/cannot be used with --redis cluster/);
  });

  it("refuses bad values with a message naming the flag", () => {
    expect(() => parseClusterArgs(["--gateways", "0"])).toThrow(/--gateways needs an integer from 1 to 64, got "0"/);
    expect(() => parseClusterArgs(["--appendfsync", "sometimes"])).toThrow(/--appendfsync must be one of always, everysec, no/);
    expect(() => parseClusterArgs(["--env", "lower=1"])).toThrow(/--env needs NAME=VALUE/);
    expect(() => parseClusterArgs(["--redis-url", "http://x"])).toThrow(/--redis-url needs a redis:\/\/ URL/);
    expect(() => parseClusterArgs(["--history", "mysql"])).toThrow(/--history must be one of off, postgres/);
    expect(() => parseClusterArgs(["--bogus"])).toThrow(UsageError);
  });

  it("answers help for --help", () => {
    expect(parseClusterArgs(["--help"])).toBe("help");
  });
});
