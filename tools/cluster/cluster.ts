import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor } from "../process/free-port.js";
import { redisPing } from "../process/redis-server.js";
import { startRedisCluster, type TestRedisCluster } from "../process/redis-cluster.js";
import { clusterRedis, describeRedis, singleRedis, type RedisTarget } from "../../services/shared/redis-connection.js";
import { repoRoot } from "../process/repo-root.js";
import { testSessionKeys } from "../process/session.js";
import { DEFAULT_CLUSTER_OPTIONS, type ClusterOptions } from "./cluster-options.js";
import { startPostgres } from "../process/postgres-server.js";
import { renderHaproxyConfig, type UpstreamServer } from "./haproxy-config.js";
import { fetchHaproxyStats, type HaproxyServerStats } from "./haproxy-stats.js";
import { httpOk, ManagedProcess, type CrashReport, type ProcessSpec } from "../process/managed-process.js";

/** One replica of the cluster, a real process that can be crashed and brought back. */
export interface Replica {
  /** `canvas-0`, `gateway-3`, `web`, `redis`, `haproxy`: also its INSTANCE_ID and haproxy server name. */
  id: string;
  /** Its main port (gateway: /ws; canvas: HTTP/2; web: HTTP). */
  port: number;
  /** Its pid while running. */
  readonly pid: number | undefined;
  readonly alive: boolean;
  logFile: string;
  /** SIGKILL, as a crash would; waits for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful drain); waits for the exit. */
  stop(): Promise<void>;
  /** Stops it if running, then starts it on the same ports and waits until ready. */
  restart(): Promise<void>;
}

/** A canvas replica: HTTP/2 (gRPC, gRPC-Web, Connect) on `port`, Connect HTTP/1.1 and probes on `httpPort`. */
export interface CanvasReplica extends Replica {
  httpPort: number;
}

/** A running local cluster. */
export interface Cluster {
  /** Public base URL (haproxy): `/`, `/api/...`, `/ws`. */
  url: string;
  /** WebSocket URL through haproxy. */
  wsUrl: string;
  /** The Redis every service uses: one server or a Redis Cluster. */
  redisTarget: RedisTarget;
  /** The URL gateways use to reach the canvas service. */
  canvasUrls: string[];
  /** haproxy's stats page (append `;csv` for CSV). */
  statsUrl: string;
  /** Temporary directory with logs/, redis/ and haproxy.cfg. */
  dir: string;
  /** The private PostgreSQL of the placement log (--history postgres); undefined without history. */
  historyDatabaseUrl: string | undefined;
  /** The archiver process (--history postgres). */
  archiver: Replica | undefined;
  /** The cluster's own single Redis; undefined with an external --redis-url or in cluster mode. */
  redis: Replica | undefined;
  /** The cluster's own Redis Cluster in cluster mode (its nodes can be killed and restarted). */
  redisCluster: TestRedisCluster | undefined;
  canvases: CanvasReplica[];
  gateways: Replica[];
  web: Replica | undefined;
  haproxy: Replica;
  /** Every unexpected exit so far. */
  crashes: CrashReport[];
  /** Current and total connections per gateway, from haproxy. */
  gatewayConnections(): Promise<Record<string, { current: number; total: number; status: string }>>;
  /** haproxy's view of every server. */
  balancerStats(): Promise<HaproxyServerStats[]>;
  /** Waits until haproxy sees every running replica of a backend as UP. */
  waitBalanced(timeoutMs?: number): Promise<void>;
  /** Stops everything (gateways first, Redis last) and removes the temporary directory. */
  stop(): Promise<void>;
}


/**
 * haproxy needs two descriptors per proxied connection and refuses to start when maxconn
 * cannot fit the process's open-file limit, so the limit caps the requested maxconn.
 */
function fittingMaxConnections(requested: number): number {
  let limit = Number.POSITIVE_INFINITY;
  try {
    const raw = execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
    if (raw !== "unlimited") limit = Number(raw);
  } catch {
    // No shell: keep the request and let haproxy say what is wrong.
  }
  return Math.max(100, Math.min(requested, Math.floor((limit - 200) / 2)));
}

async function ports(base: number, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(base > 0 ? base + i : await freePort());
  return out;
}

async function pickPort(port: number): Promise<number> {
  return port > 0 ? port : freePort();
}

function replicaOf(proc: ManagedProcess, id: string, port: number): Replica {
  return {
    id,
    port,
    get pid() { return proc.pid; },
    get alive() { return proc.alive; },
    logFile: proc.spec.logFile,
    kill9: () => proc.kill9(),
    stop: () => proc.stop(),
    restart: () => proc.restart(),
  };
}

/**
 * Starts a local multi-replica cluster as real processes: Redis (AOF on), canvas
 * replicas, gateway replicas, the web process and haproxy in front, and waits until
 * every one is ready and haproxy sees them. Build first (`npx tsc -p tsconfig.build.json`).
 * `onCrash` hears about every process that exits without being asked to.
 */
export async function startCluster(partial: Partial<ClusterOptions> = {}, onCrash?: (report: CrashReport) => void): Promise<Cluster> {
  const o: ClusterOptions = { ...DEFAULT_CLUSTER_OPTIONS, ...partial, env: { ...partial.env } };
  const root = repoRoot();
  for (const entry of ["canvas", "gateway", ...(o.web ? ["web"] : [])]) {
    const path = join(root, "dist", "services", entry, "main.js");
    if (!existsSync(path)) throw new Error(`${path} is missing: build first (npx tsc -p tsconfig.build.json)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "pixel-cluster-"));
  const logs = join(dir, "logs");
  mkdirSync(logs);
  const crashes: CrashReport[] = [];
  const crashed = (r: CrashReport) => {
    crashes.push(r);
    onCrash?.(r);
  };
  const all: ManagedProcess[] = [];
  const managed = (spec: Omit<ProcessSpec, "cwd" | "logFile" | "readyTimeoutMs" | "ownProcessGroup">) => {
    const p = new ManagedProcess({ ...spec, cwd: root, logFile: join(logs, `${spec.name}.log`), readyTimeoutMs: o.readyTimeoutMs, ownProcessGroup: o.ownProcessGroups }, crashed);
    all.push(p);
    return p;
  };
  // A parent that exits without stop() (an uncaught error, process.exit) must not leave orphans.
  let stopDatabase: (() => Promise<void>) | undefined;
  const killAll = () => all.forEach((p) => p.killNow());
  process.once("exit", killAll);
  let redisCluster: TestRedisCluster | undefined;
  const teardown = async () => {
    for (const group of ["gateway", "web", "haproxy", "canvas", "archiver", "redis"]) {
      await Promise.all(all.filter((p) => p.name.startsWith(group)).map((p) => p.close()));
    }
    await redisCluster?.stop();
    await stopDatabase?.();
    process.removeListener("exit", killAll);
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [frontPort, statsPort, balancerPort, webPort] = await Promise.all([pickPort(o.port), pickPort(o.statsPort), pickPort(o.canvasBalancerPort), pickPort(o.webPort)]);
    const grpcPorts = await ports(o.canvasGrpcPortBase, o.canvases);
    const httpPorts = await ports(o.canvasHttpPortBase, o.canvases);
    const gatewayPorts = await ports(o.gatewayPortBase, o.gateways);

    let redis: Replica | undefined;
    let redisTarget: RedisTarget | undefined = o.redisUrl === undefined ? undefined : singleRedis(o.redisUrl);
    if (o.redisMode === "cluster") {
      const redisDir = join(dir, "redis");
      mkdirSync(redisDir);
      redisCluster = await startRedisCluster({
        shards: o.redisShards, replicasPerShard: o.redisReplicas, appendfsync: o.appendfsync, dir: redisDir, ownProcessGroups: o.ownProcessGroups,
        onCrash: (port, code, signal) => crashed({ name: `redis-${port}`, pid: undefined, code, signal, logFile: join(redisDir, `node-${port}`, "redis.log"), atUnixMs: Date.now() }),
      });
      redisTarget = clusterRedis(redisCluster.seeds);
    } else if (redisTarget === undefined) {
      const redisPort = await pickPort(o.redisPort);
      const redisDir = join(dir, "redis");
      mkdirSync(redisDir);
      const proc = managed({
        name: "redis",
        command: "redis-server",
        args: ["--port", String(redisPort), "--bind", "127.0.0.1", "--dir", redisDir, "--save", "", "--appendonly", "yes", "--appendfsync", o.appendfsync, "--daemonize", "no", "--logfile", ""],
        env: process.env,
        ready: () => redisPing(redisPort),
      });
      await proc.start();
      redis = replicaOf(proc, "redis", redisPort);
      redisTarget = singleRedis(`redis://127.0.0.1:${redisPort}`);
    }
    const target = redisTarget;
    const redisEnv: Record<string, string> = target.mode === "single" ? { REDIS_URL: target.url } : { REDIS_CLUSTER_NODES: target.nodes.map((n) => `${n.host}:${n.port}`).join(",") };

    // History: a private PostgreSQL (stopped after everything else) and the archiver process.
    let historyDatabaseUrl: string | undefined;
    if (o.history === "postgres") {
      const pg = await startPostgres();
      stopDatabase = () => pg.stop();
      historyDatabaseUrl = pg.url;
    }
    // Every replica shares one session key ring. Load clients open thousands of sockets from one
    // address without sessions, so sessions are optional and the per-address caps out of the way
    // unless --env says otherwise (e.g. --env SESSIONS=required).
    const identityEnv = { SESSION_KEYS: testSessionKeys(), SESSIONS: "optional", MAX_CONNECTIONS_PER_IP: "1000000", SESSIONS_PER_IP_PER_MINUTE: "1000000" };
    const serviceEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
      const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "info", ...identityEnv, ...o.env, HOST: "127.0.0.1", ...extra };
      // Exactly one of the two Redis variables, whatever the caller's environment holds.
      delete env.REDIS_URL;
      delete env.REDIS_CLUSTER_NODES;
      return { ...env, ...redisEnv, ...(historyDatabaseUrl === undefined ? {} : { HISTORY_DATABASE_URL: historyDatabaseUrl }), ...extra };
    };
    const node = (entry: string) => [join(root, "dist", "services", entry, "main.js")];

    const canvasProcs = grpcPorts.map((grpcPort, i) => {
      const httpPort = httpPorts[i] as number;
      return managed({
        name: `canvas-${i}`,
        command: process.execPath,
        args: node("canvas"),
        env: serviceEnv({ CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), INSTANCE_ID: `canvas-${i}` }),
        ready: () => httpOk(`http://127.0.0.1:${httpPort}/readyz`),
      });
    });
    let archiver: Replica | undefined;
    if (historyDatabaseUrl !== undefined) {
      const archiverPort = await pickPort(0);
      const proc = managed({
        name: "archiver",
        command: process.execPath,
        args: node("history"),
        env: serviceEnv({ ARCHIVER_HTTP_PORT: String(archiverPort), INSTANCE_ID: "archiver" }),
        ready: () => httpOk(`http://127.0.0.1:${archiverPort}/healthz`),
      });
      await proc.start();
      archiver = replicaOf(proc, "archiver", archiverPort);
    }
    await Promise.all(canvasProcs.map((p) => p.start()));
    const canvases: CanvasReplica[] = canvasProcs.map((p, i) => ({ ...replicaOf(p, `canvas-${i}`, grpcPorts[i] as number), httpPort: httpPorts[i] as number }));

    const upstream = (prefix: string, list: number[], checkPorts?: number[]): UpstreamServer[] =>
      list.map((port, i) => ({ name: `${prefix}-${i}`, port, checkPort: checkPorts?.[i] }));
    const cfgPath = join(dir, "haproxy.cfg");
    writeFileSync(cfgPath, renderHaproxyConfig({
      frontPort,
      canvasGrpcPort: o.canvasRouting === "balancer" ? balancerPort : undefined,
      statsPort,
      web: o.web ? [{ name: "web", port: webPort }] : [],
      canvasHttp: upstream("canvas", httpPorts),
      canvasGrpc: upstream("canvas", grpcPorts, httpPorts),
      gateways: upstream("gateway", gatewayPorts),
      wsBalance: o.wsBalance,
      maxConnections: fittingMaxConnections(o.maxConnections),
    }));
    const statsUrl = `http://127.0.0.1:${statsPort}/stats`;
    const haproxyProc = managed({
      name: "haproxy",
      command: "haproxy",
      args: ["-f", cfgPath, "-db"],
      env: process.env,
      ready: () => httpOk(statsUrl),
    });
    await haproxyProc.start();
    const balancerStats = () => fetchHaproxyStats(statsUrl);
    const waitUp = async (backend: string, names: string[], timeoutMs: number) => {
      await waitFor(`haproxy to see ${names.join(", ")} UP in ${backend}`, async () => {
        const rows = (await balancerStats()).filter((r) => r.backend === backend && names.includes(r.server));
        return rows.length === names.length && rows.every((r) => r.status.startsWith("UP"));
      }, timeoutMs, 100);
    };

    const canvasUrls = o.canvasRouting === "balancer"
      ? [`http://127.0.0.1:${balancerPort}`]
      : grpcPorts.map((p) => `http://127.0.0.1:${p}`);
    if (o.canvasRouting === "balancer") await waitUp("canvas_grpc", canvases.map((c) => c.id), o.readyTimeoutMs);

    const gatewayProcs = gatewayPorts.map((port, i) => managed({
      name: `gateway-${i}`,
      command: process.execPath,
      args: node("gateway"),
      env: serviceEnv({ GATEWAY_PORT: String(port), CANVAS_URL: canvasUrls[i % canvasUrls.length] as string, INSTANCE_ID: `gateway-${i}` }),
      ready: () => httpOk(`http://127.0.0.1:${port}/readyz`),
    }));
    let webProc: ManagedProcess | undefined;
    if (o.web) {
      webProc = managed({
        name: "web",
        command: process.execPath,
        args: node("web"),
        env: serviceEnv({ WEB_PORT: String(webPort), INSTANCE_ID: "web" }),
        // Live is enough to start: /readyz also needs the built app, which haproxy's check reports.
        ready: () => httpOk(`http://127.0.0.1:${webPort}/healthz`),
      });
    }
    await Promise.all([...gatewayProcs.map((p) => p.start()), webProc?.start()]);
    const gateways = gatewayProcs.map((p, i) => replicaOf(p, `gateway-${i}`, gatewayPorts[i] as number));
    const web = webProc ? replicaOf(webProc, "web", webPort) : undefined;

    const waitBalanced = async (timeoutMs = 15_000) => {
      await waitUp("gateways", gateways.filter((g) => g.alive).map((g) => g.id), timeoutMs);
      await waitUp("canvas_http", canvases.filter((c) => c.alive).map((c) => c.id), timeoutMs);
    };
    await waitBalanced(o.readyTimeoutMs);

    let stopped = false;
    return {
      url: `http://127.0.0.1:${frontPort}`,
      wsUrl: `ws://127.0.0.1:${frontPort}/ws`,
      redisTarget: target,
      redisCluster,
      historyDatabaseUrl,
      archiver,
      canvasUrls,
      statsUrl,
      dir,
      redis,
      canvases,
      gateways,
      web,
      haproxy: replicaOf(haproxyProc, "haproxy", frontPort),
      crashes,
      async gatewayConnections() {
        const out: Record<string, { current: number; total: number; status: string }> = {};
        for (const r of await balancerStats()) {
          if (r.backend === "gateways") out[r.server] = { current: r.current, total: r.total, status: r.status };
        }
        return out;
      },
      balancerStats,
      waitBalanced,
      async stop() {
        if (stopped) return;
        stopped = true;
        await teardown();
      },
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}
