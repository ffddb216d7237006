/** AOF fsync policies redis-server accepts. */
export const APPENDFSYNC_POLICIES = ["always", "everysec", "no"] as const;
/** One AOF fsync policy. */
export type AppendFsync = (typeof APPENDFSYNC_POLICIES)[number];

/** What Redis the cluster runs on: one redis-server, or a Redis Cluster of primaries and replicas. */
export const REDIS_MODES = ["single", "cluster"] as const;
/** One Redis mode. */
export type RedisMode = (typeof REDIS_MODES)[number];
/** Whether the cluster keeps a placement log (issue 12). */
export const HISTORY_MODES = ["off", "postgres"] as const;
export type HistoryMode = (typeof HISTORY_MODES)[number];

/** How gateways reach the canvas replicas. */
export const CANVAS_ROUTINGS = ["balancer", "direct"] as const;
/**
 * `balancer`: every gateway's CANVAS_URL is haproxy's internal TCP listener in front of all
 * canvas replicas, as a Kubernetes Service is (a dead replica's sessions move to a live one).
 * `direct`: gateway i talks to canvas replica i mod N, with no failover.
 */
export type CanvasRouting = (typeof CANVAS_ROUTINGS)[number];

/** How haproxy spreads WebSocket connections over the gateways. */
export const WS_BALANCES = ["roundrobin", "leastconn"] as const;
/** One haproxy balance algorithm for /ws. */
export type WsBalance = (typeof WS_BALANCES)[number];

/** Everything `startCluster` can be told. Ports left at 0 are picked free. */
export interface ClusterOptions {
  /** Gateway replicas (default 2). */
  gateways: number;
  /** Canvas replicas (default 2). */
  canvases: number;
  /** Whether to run the web process (default true). */
  web: boolean;
  /** Public haproxy port (0 = free). */
  port: number;
  /** Redis port when the cluster runs its own (0 = free). */
  redisPort: number;
  /** First gateway port; replica i listens on base + i (0 = free ports). */
  gatewayPortBase: number;
  /** First canvas HTTP/2 port; replica i listens on base + i (0 = free ports). */
  canvasGrpcPortBase: number;
  /** First canvas HTTP/1.1 port; replica i listens on base + i (0 = free ports). */
  canvasHttpPortBase: number;
  /** Web process port (0 = free). */
  webPort: number;
  /** haproxy stats page port (0 = free). */
  statsPort: number;
  /** haproxy's internal canvas HTTP/2 listener port (0 = free). */
  canvasBalancerPort: number;
  /** AOF fsync policy of the cluster's own Redis (default everysec). */
  appendfsync: AppendFsync;
  /** Use this Redis instead of starting one (its durability is then its own business). */
  redisUrl: string | undefined;
  /** `single` (one redis-server, REDIS_URL) or `cluster` (a local Redis Cluster, REDIS_CLUSTER_NODES). */
  redisMode: RedisMode;
  /** Primaries of the local Redis Cluster (cluster mode). */
  redisShards: number;
  /** Replicas per primary of the local Redis Cluster (cluster mode). */
  redisReplicas: number;
  canvasRouting: CanvasRouting;
  wsBalance: WsBalance;
  /** Extra environment for every service process (for example PIXELS_PER_SECOND). */
  env: Record<string, string>;
  /** `postgres`: start a private PostgreSQL and the archiver, and give the canvas replicas HISTORY_DATABASE_URL; `off`: no history. */
  history: HistoryMode;
  /** haproxy's total connection limit. */
  maxConnections: number;
  /** Keep the temporary directory (logs, AOF, haproxy.cfg) after stop. */
  keepDir: boolean;
  /** How long each process may take to become ready. */
  readyTimeoutMs: number;
  /** Each replica in its own process group (the CLI: Ctrl-C reaches only the launcher, which stops them in order). */
  ownProcessGroups: boolean;
}

/** The defaults of the programmatic API: free ports everywhere, so tests can run side by side. */
export const DEFAULT_CLUSTER_OPTIONS: ClusterOptions = {
  gateways: 2,
  canvases: 2,
  web: true,
  port: 0,
  redisPort: 0,
  gatewayPortBase: 0,
  canvasGrpcPortBase: 0,
  canvasHttpPortBase: 0,
  webPort: 0,
  statsPort: 0,
  canvasBalancerPort: 0,
  appendfsync: "everysec",
  redisUrl: undefined,
  redisMode: "single",
  redisShards: 3,
  redisReplicas: 1,
  canvasRouting: "balancer",
  history: "off",
  wsBalance: "roundrobin",
  env: {},
  maxConnections: 30_000,
  keepDir: false,
  readyTimeoutMs: 30_000,
  ownProcessGroups: false,
};

/** Thrown for a bad command-line flag, with a message naming it. */
export class UsageError extends Error {}

/** The CLI's help text. */
export const CLUSTER_USAGE = `Usage: npm run cluster -- [flags]

Starts Redis, canvas replicas, gateway replicas, the web process and haproxy as separate
processes on 127.0.0.1. Ctrl-C stops all of them.

  --gateways N             gateway replicas (default 4)
  --canvases N             canvas replicas (default 2)
  --port P                 public haproxy port: / web, /api canvas, /ws gateways (default 3000)
  --appendfsync POLICY     always | everysec | no, for the cluster's own Redis (default everysec)
  --redis MODE             single (one redis-server; default) | cluster (a local Redis Cluster)
  --redis-shards N         cluster mode: primaries (default 3)
  --redis-replicas N       cluster mode: replicas per primary (default 1)
  --redis-url URL          use this Redis instead of starting one (single mode)
  --redis-port P           port of the cluster's own Redis (default: free)
  --gateway-port-base P    gateway i listens on P+i (default: free ports)
  --canvas-grpc-port-base P, --canvas-http-port-base P   likewise for canvas replicas
  --web-port P, --stats-port P, --canvas-balancer-port P  (default: free)
  --history MODE           off (default) | postgres: a private PostgreSQL, the archiver process and HISTORY_DATABASE_URL on every canvas replica
  --canvas-routing MODE    balancer (haproxy TCP, like a Kubernetes Service; default) | direct (gateway i -> canvas i mod N)
  --ws-balance ALGO        roundrobin (default) | leastconn
  --env NAME=VALUE         extra environment for every service (repeatable)
  --no-web                 do not start the web process
  --max-connections N      haproxy connection limit (default 30000)
  --keep-dir               keep logs, AOF and haproxy.cfg after stopping
  --help                   this text
`;

function intFlag(name: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} needs an integer from ${min} to ${max}, got ${raw === undefined ? "nothing" : `"${raw}"`}`);
  }
  return value;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === raw);
  if (found === undefined) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got "${raw ?? ""}"`);
  return found;
}

/** Parses CLI flags (`--name value` or `--name=value`) into options; the CLI defaults are 4 gateways and port 3000. */
export function parseClusterArgs(argv: string[]): ClusterOptions | "help" {
  const o: ClusterOptions = { ...DEFAULT_CLUSTER_OPTIONS, gateways: 4, port: 3000, env: {}, ownProcessGroups: true };
  const args = argv.flatMap((a) => (a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a]));
  for (let i = 0; i < args.length; i++) {
    const flag = args[i] ?? "";
    const value = (): string | undefined => args[++i];
    const port = (name: string) => intFlag(name, value(), 0, 65535);
    switch (flag) {
      case "--help": case "-h": return "help";
      case "--gateways": o.gateways = intFlag("gateways", value(), 1, 64); break;
      case "--canvases": o.canvases = intFlag("canvases", value(), 1, 64); break;
      case "--port": o.port = port("port"); break;
      case "--redis-port": o.redisPort = port("redis-port"); break;
      case "--gateway-port-base": o.gatewayPortBase = port("gateway-port-base"); break;
      case "--canvas-grpc-port-base": o.canvasGrpcPortBase = port("canvas-grpc-port-base"); break;
      case "--canvas-http-port-base": o.canvasHttpPortBase = port("canvas-http-port-base"); break;
      case "--web-port": o.webPort = port("web-port"); break;
      case "--stats-port": o.statsPort = port("stats-port"); break;
      case "--canvas-balancer-port": o.canvasBalancerPort = port("canvas-balancer-port"); break;
      case "--appendfsync": o.appendfsync = oneOf("appendfsync", value(), APPENDFSYNC_POLICIES); break;
      case "--redis-url": {
        const url = value();
        if (!url || !/^rediss?:\/\//.test(url)) throw new UsageError(`--redis-url needs a redis:// URL, got "${url ?? ""}"`);
        o.redisUrl = url;
        break;
      }
      case "--redis": o.redisMode = oneOf("redis", value(), REDIS_MODES); break;
      case "--redis-shards": o.redisShards = intFlag("redis-shards", value(), 1, 16); break;
      case "--redis-replicas": o.redisReplicas = intFlag("redis-replicas", value(), 0, 4); break;
      case "--canvas-routing": o.canvasRouting = oneOf("canvas-routing", value(), CANVAS_ROUTINGS); break;
      case "--history": o.history = oneOf("history", value(), HISTORY_MODES); break;
      case "--ws-balance": o.wsBalance = oneOf("ws-balance", value(), WS_BALANCES); break;
      case "--env": {
        const pair = value() ?? "";
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(pair);
        if (!m) throw new UsageError(`--env needs NAME=VALUE, got "${pair}"`);
        o.env[m[1] as string] = m[2] as string;
        break;
      }
      case "--no-web": o.web = false; break;
      case "--max-connections": o.maxConnections = intFlag("max-connections", value(), 1, 1_000_000); break;
      case "--keep-dir": o.keepDir = true; break;
      default: throw new UsageError(`unknown flag "${flag}" (see --help)`);
    }
  }
  if (o.redisMode === "cluster" && o.redisUrl !== undefined) throw new UsageError("--redis-url names one Redis; it cannot be used with --redis cluster");
  return o;
}
