import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, waitFor } from "./free-port.js";
import { redisPing } from "./redis-server.js";

const run = promisify(execFile);

/**
 * Node timeout of the local clusters: a primary unreachable this long is marked failed and its
 * replica is promoted about a second later. Redis's default (15 s) would keep writes out for far
 * longer than the gateway's write deadline; production sets its own (k8s/, docs/operations.md).
 */
export const LOCAL_CLUSTER_NODE_TIMEOUT_MS = 750;

/** One redis-server of a local cluster. */
export interface ClusterNode {
  port: number;
  dir: string;
  /** Its pid while running. */
  readonly pid: number | undefined;
  readonly alive: boolean;
  /** SIGKILL, as a crash would; waits for the exit. */
  kill9(): Promise<void>;
  /** Starts it again on the same port and directory (it rejoins from its nodes.conf, usually as a replica). */
  restart(): Promise<void>;
}

/** A running local Redis Cluster: `shards` primaries, each with `replicasPerShard` replicas. */
export interface TestRedisCluster {
  nodes: ClusterNode[];
  /** `host:port` of every node, for REDIS_CLUSTER_NODES. */
  seeds: string[];
  dir: string;
  /** The node that is primary for `key`'s slot now (asks the cluster). */
  primaryFor(key: string): Promise<ClusterNode>;
  /** A running replica of `primary` (asks each node for its replication role). */
  replicaOf(primary: ClusterNode): Promise<ClusterNode>;
  /** The hash slot of a key (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** Waits until every slot is served, `cluster_state:ok` holds on every running node and every running replica is synced. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes the directory. */
  stop(): Promise<void>;
}

/** How a local cluster is started. */
export interface RedisClusterOptions {
  /** Primaries (default 3). */
  shards?: number;
  /** Replicas per primary (default 1). */
  replicasPerShard?: number;
  /** AOF fsync policy of every node (default "everysec"). */
  appendfsync?: "always" | "everysec" | "no";
  /** `--cluster-node-timeout` (default LOCAL_CLUSTER_NODE_TIMEOUT_MS). */
  nodeTimeoutMs?: number;
  /** Parent directory for the nodes' directories (default: a new temporary one, deleted on stop). */
  dir?: string;
  /** Each node in its own process group, so a terminal's Ctrl-C reaches only the launcher (the cluster CLI). */
  ownProcessGroups?: boolean;
  /** Called with every node that exits without being asked to. */
  onCrash?: (port: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

/** Runs redis-cli with arguments and returns its stdout. */
async function redisCli(...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", args, { timeout: 30_000 });
  return stdout;
}

/**
 * True when the node on `port` sees `cluster_state:ok` with every slot served and, when it is a
 * replica, its link to its primary is up (synced): a replica that never synced could not take
 * over, and WAIT would count nobody.
 */
async function nodeHealthy(port: number): Promise<boolean> {
  const info = await redisCli("-p", String(port), "cluster", "info");
  if (!info.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return false;
  const replication = await redisCli("-p", String(port), "info", "replication");
  return !replication.includes("role:slave") || replication.includes("master_link_status:up");
}

/**
 * Starts a Redis Cluster of real `redis-server --cluster-enabled yes` processes on free ports of
 * 127.0.0.1, each in its own directory (AOF on), joins them with `redis-cli --cluster create
 * --cluster-replicas N --cluster-yes` and waits for `cluster_state:ok`. Never touches another Redis.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const shards = options.shards ?? 3;
  const replicas = options.replicasPerShard ?? 1;
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "pixel-redis-cluster-"));
  const nodes: (ClusterNode & { stop(): Promise<void> })[] = [];
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < shards * (1 + replicas); i++) {
      nodes.push(await startNode(dir, await freePort(), options));
    }
    const seeds = nodes.map((n) => `127.0.0.1:${n.port}`);
    if (shards >= 3) await redisCli("--cluster", "create", ...seeds, "--cluster-replicas", String(replicas), "--cluster-yes");
    else await createSmallCluster(nodes, shards, replicas);
    const cluster: TestRedisCluster = {
      nodes,
      seeds,
      dir,
      async primaryFor(key) {
        for (const node of nodes.filter((n) => n.alive)) {
          const slot = (await redisCli("-p", String(node.port), "cluster", "keyslot", key)).trim();
          const shardsText = await redisCli("-p", String(node.port), "cluster", "slots");
          const owner = primaryPortOfSlot(shardsText, Number(slot));
          const found = nodes.find((n) => n.port === owner);
          if (found) return found;
        }
        throw new Error(`no running node knows the primary for ${key}`);
      },
      async replicaOf(primary) {
        for (const node of nodes.filter((n) => n.alive && n !== primary)) {
          const replication = await redisCli("-p", String(node.port), "info", "replication");
          if (replication.includes("role:slave") && replication.includes(`master_port:${primary.port}`)) return node;
        }
        throw new Error(`no running replica of the primary on port ${primary.port}`);
      },
      async slotOf(key) {
        const running = nodes.find((n) => n.alive);
        if (!running) throw new Error("no running node");
        return Number((await redisCli("-p", String(running.port), "cluster", "keyslot", key)).trim());
      },
      async waitHealthy(timeoutMs = 20_000) {
        await waitFor("the Redis Cluster to report cluster_state:ok on every running node", async () => {
          const running = nodes.filter((n) => n.alive);
          return (await Promise.all(running.map((n) => nodeHealthy(n.port)))).every(Boolean);
        }, timeoutMs, 100);
      },
      stop: stopAll,
    };
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * `redis-cli --cluster create` wants at least 3 primaries; 1 or 2 (a baseline for the scaling
 * benchmark) are joined by hand: MEET, the slots split evenly, then each replica REPLICATEs its
 * primary. Nodes `0..shards-1` are the primaries; the rest are replicas, in turn.
 */
async function createSmallCluster(nodes: ClusterNode[], shards: number, replicas: number): Promise<void> {
  const [first, ...rest] = nodes;
  if (!first) throw new Error("no node to create a cluster from");
  for (const node of rest) await redisCli("-p", String(first.port), "cluster", "meet", "127.0.0.1", String(node.port));
  for (let i = 0; i < shards; i++) {
    const start = Math.floor((16384 * i) / shards);
    const end = Math.floor((16384 * (i + 1)) / shards) - 1;
    await redisCli("-p", String(nodes[i]!.port), "cluster", "addslotsrange", String(start), String(end));
  }
  await waitFor("every node to know every other", async () => {
    const known = (await redisCli("-p", String(first.port), "cluster", "nodes")).trim().split("\n").length;
    return known === nodes.length;
  }, 20_000, 100);
  for (let r = 0; r < shards * replicas; r++) {
    const primary = nodes[r % shards]!;
    const id = (await redisCli("-p", String(primary.port), "cluster", "myid")).trim();
    await waitFor(`replica ${nodes[shards + r]!.port} to know its primary`, async () => {
      await redisCli("-p", String(nodes[shards + r]!.port), "cluster", "replicate", id).then((out) => {
        if (!out.startsWith("OK")) throw new Error(out);
      });
      return true;
    }, 20_000, 200);
  }
}

/**
 * Reads the primary port of `slot` from redis-cli's CLUSTER SLOTS output (one value per line:
 * start, end, then per node host, port, id, and possibly a networking metadata map).
 */
function primaryPortOfSlot(text: string, slot: number): number | undefined {
  const lines = text.split("\n").map((l) => l.trim());
  for (let i = 0; i + 3 < lines.length; i++) {
    const start = Number(lines[i]);
    const end = Number(lines[i + 1]);
    if (!/^\d+$/.test(lines[i] ?? "") || !/^\d+$/.test(lines[i + 1] ?? "") || lines[i + 2] !== "127.0.0.1") continue;
    if (slot >= start && slot <= end) return Number(lines[i + 3]);
  }
  return undefined;
}

async function startNode(parent: string, port: number, options: RedisClusterOptions): Promise<ClusterNode & { stop(): Promise<void> }> {
  const dir = join(parent, `node-${port}`);
  mkdirSync(dir, { recursive: true });
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
    "--appendonly", "yes", "--appendfsync", options.appendfsync ?? "everysec",
    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
    "--cluster-node-timeout", String(options.nodeTimeoutMs ?? LOCAL_CLUSTER_NODE_TIMEOUT_MS),
    // A node that rejoins as a replica syncs at once, not after the default 5 s wait for other replicas.
    "--repl-diskless-sync-delay", "0",
    "--daemonize", "no", "--logfile", join(dir, "redis.log"),
  ];
  let child: ChildProcess | undefined;
  let expectingExit = false;
  const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const launch = async () => {
    expectingExit = false;
    const c = spawn("redis-server", args, { stdio: "ignore", detached: options.ownProcessGroups ?? false });
    child = c;
    let spawnError: Error | undefined;
    c.once("error", (err) => (spawnError = err));
    c.once("exit", (code, signal) => {
      if (!expectingExit) options.onCrash?.(port, code, signal);
    });
    await waitFor(`cluster node redis-server on port ${port}`, () => {
      if (spawnError) throw new Error(`cannot start redis-server (apt-get install -y redis-server): ${spawnError.message}`);
      return redisPing(port);
    });
    if (spawnError) throw spawnError;
  };
  const stop = async () => {
    if (!child || !alive()) return;
    const c = child;
    expectingExit = true;
    c.kill("SIGTERM");
    await exited(c);
  };
  await launch();
  return {
    port,
    dir,
    get pid() {
      return alive() ? child?.pid : undefined;
    },
    get alive() {
      return alive();
    },
    async kill9() {
      if (!child || !alive()) return;
      const c = child;
      expectingExit = true;
      c.kill("SIGKILL");
      await exited(c);
    },
    restart: launch,
    stop,
  };
}
