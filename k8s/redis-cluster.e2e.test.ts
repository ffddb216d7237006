import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../tools/process/free-port.js";
import { type K8sObject, TEST_REDIS_PASSWORD } from "./kustomize-render.js";
import { containerEnv, expandDependentVars } from "./pod-env.js";
import { container, find, findGenerated, renderAll } from "./rendered-overlays.js";

/**
 * The Redis Cluster of overlays/prod-redis-cluster, run here as processes: six redis-server
 * processes started with exactly the arguments and environment their StatefulSets give them (the
 * pod IP is 127.0.0.1; port, volume and bus port mapped to free local ones), and the scripts of
 * the redis-cluster-scripts ConfigMap run against them as the init Job, the readiness probe and
 * the preStop hook run them.
 */
const TARGET = "overlays/prod-redis-cluster";

type Node = { pod: string; port: number; busPort: number; dir: string; args: string[]; proc?: ChildProcess };

let root: string;
let scriptsDir: string;
let nodes: Node[];
let shards: Node[][];
/** Builds a node as the named pod of a shard StatefulSet would run (used for a 4th shard below). */
let makeNode: (stsName: string, pod: string) => Promise<Node>;

/** redis-cli against a node with the manifests' password, output without carriage returns. */
function cli(node: Node, ...args: string[]): string {
  const r = spawnSync("redis-cli", ["-p", String(node.port), ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: TEST_REDIS_PASSWORD } });
  return (r.stdout ?? "").replace(/\r/g, "").trim();
}

/** Runs one of the ConfigMap's scripts as the Job or the kubelet would; resolves with its exit code and output. */
function runScript(name: string, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, REDISCLI_AUTH: TEST_REDIS_PASSWORD, ...extraEnv };
    const child = spawn("sh", [join(scriptsDir, name), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("exit", (code) => resolve({ code: code ?? -1, output }));
  });
}

const shardPods = (): string => shards.map((s) => s.map((n) => `127.0.0.1:${n.port}`).join(",")).join(" ");
const createCluster = (): Promise<{ code: number; output: string }> => runScript("create-cluster.sh", [], { SHARD_PODS: shardPods(), WAIT_SECONDS: "60" });
const ready = async (n: Node): Promise<boolean> => (await runScript("ready.sh", [`127.0.0.1:${n.port}`])).code === 0;
const myId = (n: Node): string => cli(n, "cluster", "myid");
const role = (n: Node): string => cli(n, "role").split("\n")[0] ?? "";
/** The id of the primary a node replicates ("-" for a primary), from its own CLUSTER NODES line. */
const masterOf = (n: Node): string => cli(n, "cluster", "nodes").split("\n").find((l) => l.includes("myself"))?.split(" ")[3] ?? "";

async function launch(n: Node): Promise<void> {
  n.proc = spawn("redis-server", n.args, { stdio: "ignore" });
  await waitFor(`${n.pod} on ${n.port}`, async () => cli(n, "ping") === "PONG", 20_000, 100);
}

async function stop(n: Node): Promise<void> {
  const p = n.proc;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once("exit", () => r()));
  p.kill("SIGTERM");
  await exited;
}

beforeAll(async () => {
  const { rendered, cleanup } = renderAll([TARGET]);
  const objects = rendered.get(TARGET) as K8sObject[];
  cleanup();
  root = mkdtempSync(join(tmpdir(), "pixel-redis-cluster-"));
  scriptsDir = join(root, "scripts");
  mkdirSync(scriptsDir);
  for (const [file, text] of Object.entries(findGenerated(objects, "ConfigMap", "redis-cluster-scripts").data as Record<string, string>)) {
    writeFileSync(join(scriptsDir, file), text);
  }
  makeNode = async (stsName, pod) => {
    const c = container(find(objects, "StatefulSet", stsName), "redis");
    const env = containerEnv(objects, c, pod, "127.0.0.1");
    const port = await freePort();
    const busPort = await freePort();
    const dir = join(root, pod);
    mkdirSync(dir);
    // The pod's argv, expanded as the kubelet does, with the pod's port and volume mapped here.
    const args = (c.args as string[]).map((a) => expandDependentVars(a, env)).map((a) => (a === "6379" ? String(port) : a.replace(/^\/data/, dir)));
    args.push("--cluster-port", String(busPort), "--bind", "127.0.0.1", "--daemonize", "no", "--logfile", join(dir, "redis.log"));
    return { pod, port, busPort, dir, args };
  };
  shards = [];
  nodes = [];
  for (const name of ["redis-shard-0", "redis-shard-1", "redis-shard-2"]) {
    const sts = find(objects, "StatefulSet", name);
    const shard: Node[] = [];
    for (let i = 0; i < (sts.spec as { replicas: number }).replicas; i++) {
      const node = await makeNode(name, `${name}-${i}`);
      shard.push(node);
      nodes.push(node);
    }
    shards.push(shard);
  }
  await Promise.all(nodes.map(launch));
}, 60_000);

afterAll(async () => {
  await Promise.all((nodes ?? []).map(stop));
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("the Redis Cluster's scripts on six redis-server processes started with the shard pods' arguments", () => {
  it("the init Job's script creates the cluster: each shard's first pod a primary with slots, its second pod that primary's replica", async () => {
    for (const n of nodes) expect(await ready(n), `${n.pod} ready before the cluster exists`).toBe(false);
    const run = await createCluster();
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("creating the cluster");
    for (const [primary, replica] of shards as [Node, Node][]) {
      expect(role(primary)).toBe("master");
      expect(masterOf(replica)).toBe(myId(primary));
    }
    for (const n of nodes) {
      expect(cli(n, "cluster", "info")).toContain("cluster_state:ok");
      expect(await ready(n), n.pod).toBe(true);
    }
  }, 90_000);

  it("running it again changes nothing", async () => {
    const before = nodes.map((n) => [myId(n), role(n), masterOf(n)]);
    const run = await createCluster();
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("converging");
    expect(run.output).not.toContain("now replicates");
    expect(run.output).not.toContain("meeting");
    expect(nodes.map((n) => [myId(n), role(n), masterOf(n)])).toEqual(before);
  }, 90_000);

  it("preStop hands a primary's slots and data to its replica, and the Job then keeps the swapped pair as it is", async () => {
    const [primary, replica] = shards[1] as [Node, Node];
    // Keys whose slots the shard owns land on it (redis-cli -c follows the redirects).
    for (let i = 0; i < 60; i++) cli(primary, "-c", "set", `{canvas:${i}}`, String(i));
    const keys = Number(cli(primary, "dbsize"));
    expect(keys).toBeGreaterThan(0);
    const stopRun = await runScript("pre-stop.sh", [`127.0.0.1:${primary.port}`]);
    expect(stopRun.code, stopRun.output).toBe(0);
    expect(stopRun.output).toContain("handed over");
    expect(role(primary)).toBe("slave");
    expect(role(replica)).toBe("master");
    expect(Number(cli(replica, "dbsize"))).toBe(keys);
    // preStop of a replica does nothing.
    expect((await runScript("pre-stop.sh", [`127.0.0.1:${primary.port}`])).output).toBe("");
    const run = await createCluster();
    expect(run.code, run.output).toBe(0);
    expect(masterOf(primary)).toBe(myId(replica));
  }, 90_000);

  it("a pod whose volume was replaced comes back blank, and the Job makes it its shard's replica again and forgets its old id", async () => {
    const [primary, replica] = shards[2] as [Node, Node];
    const oldId = myId(replica);
    await stop(replica);
    rmSync(replica.dir, { recursive: true, force: true });
    mkdirSync(replica.dir);
    await launch(replica);
    expect(myId(replica)).not.toBe(oldId);
    expect(await ready(replica)).toBe(false);
    const run = await createCluster();
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`forgetting ${oldId}`);
    expect(masterOf(replica)).toBe(myId(primary));
    for (const n of nodes) {
      expect(cli(n, "cluster", "nodes")).not.toContain(oldId);
      expect(cli(n, "cluster", "info")).toContain("cluster_known_nodes:6");
      expect(await ready(n), n.pod).toBe(true);
    }
  }, 90_000);

  it("a fourth shard (a copy of the last StatefulSet) gets a primary, a replica and its share of the slots and keys on the next run", async () => {
    // docs/operations.md, "Scaling shards": the new StatefulSet runs the same pod spec.
    const added = [await makeNode("redis-shard-2", "redis-shard-3-0"), await makeNode("redis-shard-2", "redis-shard-3-1")];
    await Promise.all(added.map(launch));
    nodes.push(...added);
    shards.push(added);
    const keysBefore = shards.slice(0, 3).reduce((sum, [a, b]) => sum + Number(cli(role(a as Node) === "master" ? (a as Node) : (b as Node), "dbsize")), 0);
    const run = await createCluster();
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("is new");
    const [primary, replica] = added as [Node, Node];
    expect(role(primary)).toBe("master");
    expect(masterOf(replica)).toBe(myId(primary));
    const slots = cli(primary, "cluster", "nodes").split("\n").find((l) => l.includes("myself"))?.split(" ").slice(8) ?? [];
    expect(slots.length).toBeGreaterThan(0);
    const primaries = shards.map(([a, b]) => (role(a as Node) === "master" ? (a as Node) : (b as Node)));
    expect(primaries.reduce((sum, p) => sum + Number(cli(p, "dbsize")), 0)).toBe(keysBefore);
    for (const n of nodes) expect(await ready(n), n.pod).toBe(true);
  }, 180_000);
});
