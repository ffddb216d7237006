/** Deployment configuration, read once from the environment and validated at the edge. */

/** The protocol's limits, defined with the wire rules in protocol/ and re-exported for the services. */
export { MAX_COLOR, MAX_NAME_LENGTH, MAX_PIXELS_PER_CALL, MAX_PIXELS_PER_PLACE } from "../../protocol/limits.js";

/** Default ports; Kubernetes manifests and the cluster script are checked against these. */
export const DEFAULT_PORTS = {
  /** Web entry: static app, /api and /ws (the one local URL). */
  web: 3000,
  /** Canvas service: gRPC, gRPC-Web and Connect over HTTP/2 cleartext. */
  canvasGrpc: 3001,
  /** Gateway: WebSocket /ws plus /healthz, /readyz, /metrics. */
  gateway: 3002,
  /** Canvas service: Connect over HTTP/1.1 at /api, plus /healthz, /readyz, /metrics. */
  canvasHttp: 3003,
} as const;

/** The canvas an empty canvas_id means. */
export const DEFAULT_CANVAS_ID = "default";
/** Default canvas side, the size of the design being replaced. */
export const DEFAULT_CANVAS_SIDE = 50;
/** Largest configurable canvas side; canvases are stored and served by tile (tile-grid.ts). */
export const MAX_CANVAS_SIDE = 8192;
/**
 * Largest canvas (in pixels) GetCanvas returns whole: 2048 x 2048 is a 12 MiB response, while
 * 8192 x 8192 would be 192 MiB. Bigger canvases are read by tile (GetTile, /api/tiles/...); the
 * WebSocket gateway snapshots rooms with GetCanvas, so it serves canvases up to this size.
 */
export const MAX_SNAPSHOT_PIXELS = 2048 * 2048;
/** Largest WebSocket frame the gateway accepts; bigger closes with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Canvas ids: lowercase letters, digits and dashes. */
export const CANVAS_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Everything a process may be configured with. */
export interface Config {
  host: string;
  webPort: number;
  canvasGrpcPort: number;
  canvasHttpPort: number;
  gatewayPort: number;
  /** REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster); unset means the embedded in-process store and bus. */
  redis: RedisTarget | undefined;
  /** When a canvas write counts as stored (REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT_MS; canvas service). */
  redisWait: WaitPolicy;
  /** Where the gateway reaches the canvas service over HTTP/2. */
  canvasUrl: string;
  /** Size of new canvases. */
  canvasWidth: number;
  canvasHeight: number;
  /**
   * CANVAS_IDS: the canvases registered at start-up (the registry's seed; more are created at run
   * time with CreateCanvas). Always includes the default canvas.
   */
  canvasIds: string[];
  /** The seeds' sizes, by name: CANVAS_WIDTH x CANVAS_HEIGHT unless CANVAS_IDS gave `name:WxH`. */
  canvasSizes: Map<string, { width: number; height: number }>;
  /** Embedded store's directory. */
  dataDir: string;
  /** Sustained pixels per second one WebSocket connection may place. */
  pixelsPerSecond: number;
  /** Burst allowance of the per-connection pixel bucket. */
  pixelBurst: number;
  /** Most open WebSocket connections per gateway. */
  maxConnections: number;
  /**
   * Proxies in front that append to X-Forwarded-For (FORWARDED_FOR_HOPS, default 0): a client's
   * address, which keys its per-network placement budget, is the entry that many from the right.
   */
  forwardedForHops: number;
  /** Name of this replica in logs, metrics and presence. */
  instanceId: string;
  /**
   * ALLOWED_ORIGINS: origins allowed to open /ws besides the page's own (`*` allows any); the
   * gateway's rules are in services/gateway/transport/origin-policy.ts.
   */
  allowedOrigins: string[];
  logLevel: string;
}

/** Thrown for an invalid environment value, naming the variable. */
export class ConfigError extends Error {}

/** Reads an optional integer variable (`fallback` when unset or empty); throws ConfigError naming it when it is out of [min, max]. */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Parses ALLOWED_ORIGINS: comma-separated `scheme://host[:port]` origins, or `*`. */
function origins(env: NodeJS.ProcessEnv): string[] {
  const list = (env.ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim().replace(/\/$/, "")).filter(Boolean);
  for (const entry of list) {
    if (entry === "*") continue;
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== entry.toLowerCase() || !/^https?:/.test(entry)) throw new ConfigError(`ALLOWED_ORIGINS entry "${entry}" must be an origin like https://pixels.example.com (scheme, host, optional port) or *`);
  }
  return list.map((entry) => entry.toLowerCase());
}

/** One CANVAS_IDS entry: a name, optionally with its own size (`big:2048x2048`). */
const CANVAS_ID_ENTRY = /^([^:]+)(?::(\d+)x(\d+))?$/;

/**
 * Parses CANVAS_IDS: comma-separated `name` or `name:WIDTHxHEIGHT` entries; a name alone gets the
 * default size. The default canvas is added (first, at the default size) when not listed.
 */
function parseCanvasIds(raw: string, defaultSize: { width: number; height: number }): Map<string, { width: number; height: number }> {
  const sizes = new Map<string, { width: number; height: number }>();
  for (const entry of raw.split(",").map((s) => s.trim()).filter(Boolean)) {
    const match = CANVAS_ID_ENTRY.exec(entry);
    const id = match?.[1] ?? entry;
    if (!CANVAS_ID_PATTERN.test(id)) throw new ConfigError(`CANVAS_IDS entry "${entry}" must be a name matching ${CANVAS_ID_PATTERN}, optionally with :WIDTHxHEIGHT`);
    const size = match?.[2] === undefined ? defaultSize : { width: Number(match[2]), height: Number(match[3]) };
    if ([size.width, size.height].some((side) => side < 1 || side > MAX_CANVAS_SIDE)) {
      throw new ConfigError(`CANVAS_IDS entry "${entry}": each side must be from 1 to ${MAX_CANVAS_SIDE}`);
    }
    if (sizes.has(id)) throw new ConfigError(`CANVAS_IDS names "${id}" twice`);
    sizes.set(id, size);
  }
  if (!sizes.has(DEFAULT_CANVAS_ID)) return new Map([[DEFAULT_CANVAS_ID, defaultSize], ...sizes]);
  return sizes;
}

/** Reads and validates the configuration from an environment. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const canvasWidth = envInt(env, "CANVAS_WIDTH", DEFAULT_CANVAS_SIDE, 1, MAX_CANVAS_SIDE);
  const canvasHeight = envInt(env, "CANVAS_HEIGHT", DEFAULT_CANVAS_SIDE, 1, MAX_CANVAS_SIDE);
  const canvasSizes = parseCanvasIds(env.CANVAS_IDS ?? DEFAULT_CANVAS_ID, { width: canvasWidth, height: canvasHeight });
  const canvasIds = [...canvasSizes.keys()];
  const canvasGrpcPort = envInt(env, "CANVAS_GRPC_PORT", DEFAULT_PORTS.canvasGrpc, 0, 65535);
  const redis = redisTargetFromEnv(env);
  return {
    host: env.HOST || "127.0.0.1",
    webPort: envInt(env, "WEB_PORT", DEFAULT_PORTS.web, 0, 65535),
    canvasGrpcPort,
    canvasHttpPort: envInt(env, "CANVAS_HTTP_PORT", DEFAULT_PORTS.canvasHttp, 0, 65535),
    gatewayPort: envInt(env, "GATEWAY_PORT", DEFAULT_PORTS.gateway, 0, 65535),
    redis,
    redisWait: waitPolicyFromEnv(env, redis),
    canvasUrl: env.CANVAS_URL || `http://127.0.0.1:${canvasGrpcPort}`,
    canvasWidth,
    canvasHeight,
    canvasIds,
    canvasSizes,
    dataDir: env.DATA_DIR || ".data",
    pixelsPerSecond: envInt(env, "PIXELS_PER_SECOND", 200, 1, 1_000_000),
    pixelBurst: envInt(env, "PIXEL_BURST", 1_000, 1, 10_000_000),
    maxConnections: envInt(env, "MAX_CONNECTIONS", 20_000, 1, 1_000_000),
    forwardedForHops: envInt(env, "FORWARDED_FOR_HOPS", 0, 0, 10),
    instanceId: env.INSTANCE_ID || env.HOSTNAME || `pid-${process.pid}`,
    allowedOrigins: origins(env),
    logLevel: env.LOG_LEVEL || "info",
  };
}

/**
 * Where Redis is: one server (`REDIS_URL`) or a Redis Cluster given by its seed nodes
 * (`REDIS_CLUSTER_NODES=host:port,host:port,...`; any reachable primaries or replicas, the client
 * discovers the rest). services/shared/redis-connection.ts turns it into clients.
 */
export type RedisTarget =
  | { mode: "single"; url: string }
  | { mode: "cluster"; nodes: { host: string; port: number }[]; password?: string };

/**
 * When a canvas write counts as stored (`REDIS_WAIT_REPLICAS`, `REDIS_WAIT_TIMEOUT_MS`): after the
 * write script, `WAIT replicas timeoutMs` on the same connection; fewer replicas than asked
 * answers Unavailable instead of an ack. `replicas: 0` turns it off.
 */
export interface WaitPolicy {
  replicas: number;
  timeoutMs: number;
}

/** WAIT's default timeout: well inside REDIS_COMMAND_TIMEOUT_MS and the gateway's per-attempt deadline. */
export const DEFAULT_WAIT_TIMEOUT_MS = 500;

/** Parses `host:port,host:port`; throws ConfigError naming the variable for anything else. */
export function parseRedisNodes(raw: string, name = "REDIS_CLUSTER_NODES"): { host: string; port: number }[] {
  return raw.split(",").map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(entry);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) throw new ConfigError(`${name} entry "${entry}" must be host:port`);
    return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port };
  });
}

/**
 * Reads the Redis target from the environment: REDIS_CLUSTER_NODES (cluster) or REDIS_URL
 * (single); both set is an error, neither means no Redis (the embedded store). A cluster's nodes
 * share one password, `REDIS_PASSWORD` (a single Redis takes it in its URL, `redis://:pw@host`).
 */
export function redisTargetFromEnv(env: NodeJS.ProcessEnv): RedisTarget | undefined {
  const url = env.REDIS_URL || undefined;
  const nodes = env.REDIS_CLUSTER_NODES || undefined;
  if (url !== undefined && nodes !== undefined) throw new ConfigError("set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both");
  if (nodes !== undefined) {
    const parsed = parseRedisNodes(nodes);
    if (parsed.length === 0) throw new ConfigError("REDIS_CLUSTER_NODES names no node");
    const password = env.REDIS_PASSWORD || undefined;
    return password === undefined ? { mode: "cluster", nodes: parsed } : { mode: "cluster", nodes: parsed, password };
  }
  return url === undefined ? undefined : { mode: "single", url };
}

/** The write acknowledgement policy: on by default (1 replica) in cluster mode, off with one Redis. */
export function waitPolicyFromEnv(env: NodeJS.ProcessEnv, target: RedisTarget | undefined): WaitPolicy {
  const fallback = target?.mode === "cluster" ? 1 : 0;
  return {
    replicas: envInt(env, "REDIS_WAIT_REPLICAS", fallback, 0, 16),
    timeoutMs: envInt(env, "REDIS_WAIT_TIMEOUT_MS", DEFAULT_WAIT_TIMEOUT_MS, 1, 10_000),
  };
}

/** Resolves an empty canvas id to the default one. */
export function resolveCanvasId(canvasId: string): string {
  return canvasId === "" ? DEFAULT_CANVAS_ID : canvasId;
}
