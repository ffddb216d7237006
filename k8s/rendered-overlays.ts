/**
 * Test fixture: the rendered base and overlays, plus lookups the policy tests share.
 */
import { join } from "node:path";
import { containersOf, type K8sObject, prepareRenderTree, render } from "./kustomize-render.js";

/** A rendered kustomization: where it is, its namespace, the replicas it promises, its Redis and its history database. */
export interface Overlay {
  target: string;
  namespace: string | undefined;
  replicas: Record<string, number>;
  /** "single": one Redis StatefulSet behind REDIS_URL; "cluster": k8s/components/redis-cluster. */
  redis: "single" | "cluster";
  /** "in-cluster": the base's history-db StatefulSet; "external": k8s/components/external-history-db. */
  historyDb: "in-cluster" | "external";
  /** Containers across every workload (Deployments, StatefulSets, Jobs). */
  containers: number;
}

const CLUSTER_SHARDS = { "redis-shard-0": 2, "redis-shard-1": 2, "redis-shard-2": 2 };
/** The history archiver and its in-cluster PostgreSQL: one each in every overlay. */
const HISTORY = { archiver: 1, "history-db": 1 };
const PROD = { canvas: 3, gateway: 4, web: 2 };

/** Every kustomization the repository ships, with the replica counts it promises. */
export const OVERLAYS: Overlay[] = [
  // canvas, gateway, web, redis, archiver, history-db.
  { target: "base", namespace: undefined, replicas: { canvas: 1, gateway: 1, web: 1, redis: 1, ...HISTORY }, redis: "single", historyDb: "in-cluster", containers: 6 },
  { target: "overlays/dev", namespace: "pixel-dev", replicas: { canvas: 1, gateway: 1, web: 1, redis: 1, ...HISTORY }, redis: "single", historyDb: "in-cluster", containers: 6 },
  { target: "overlays/prod", namespace: "pixel-prod", replicas: { ...PROD, redis: 1, ...HISTORY }, redis: "single", historyDb: "in-cluster", containers: 6 },
  { target: "overlays/prod-monitoring", namespace: "pixel-prod", replicas: { ...PROD, redis: 1, ...HISTORY }, redis: "single", historyDb: "in-cluster", containers: 6 },
  {
    target: "overlays/prod-redis-cluster",
    namespace: "pixel-prod",
    replicas: { ...PROD, ...CLUSTER_SHARDS, ...HISTORY },
    redis: "cluster",
    historyDb: "in-cluster",
    // canvas, gateway, web, archiver, history-db, three shard StatefulSets and the init Job.
    containers: 9,
  },
  {
    target: "overlays/prod-external-history-db",
    namespace: "pixel-prod",
    replicas: { ...PROD, redis: 1, archiver: 1 },
    redis: "single",
    historyDb: "external",
    // canvas, gateway, web, redis, archiver: the database is outside the cluster.
    containers: 5,
  },
];

/** Renders the overlays (all, or the targets named) into a map keyed by target. */
export function renderAll(targets: string[] = OVERLAYS.map((o) => o.target)): { rendered: Map<string, K8sObject[]>; cleanup: () => void } {
  const tree = prepareRenderTree();
  const rendered = new Map<string, K8sObject[]>();
  try {
    for (const target of targets) rendered.set(target, render(join(tree.dir, target)));
  } finally {
    tree.cleanup();
  }
  return { rendered, cleanup: () => rendered.clear() };
}

/** Workloads that run pods: Deployments, StatefulSets and (one-shot) Jobs. */
export function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet" || o.kind === "Job");
}

/** Workloads that run pods for good (not Jobs): these serve, are probed and sit behind Services. */
export function servingWorkloads(objects: K8sObject[]): K8sObject[] {
  return workloads(objects).filter((o) => o.kind !== "Job");
}

/** The one object of a kind and name; throws when absent. */
export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not rendered`);
  return found;
}

/** Finds a generated ConfigMap or Secret by its base name (kubectl adds a hash suffix). */
export function findGenerated(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && (o.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name)));
  if (!found) throw new Error(`${kind}/${name} is not rendered`);
  return found;
}

/** The pod template of a workload. */
export function podTemplate(o: K8sObject): { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } {
  const t = (o.spec as { template?: unknown }).template as { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } | undefined;
  if (!t) throw new Error(`${o.kind}/${o.metadata.name} has no pod template`);
  return t;
}

/** A container of a workload, by name. */
export function container(o: K8sObject, name: string): Record<string, unknown> & { name: string; image: string } {
  const c = containersOf(o).find((x) => x.name === name);
  if (!c) throw new Error(`${o.metadata.name} has no container ${name}`);
  return c;
}

/** A container's named port number; throws when absent. */
export function namedPort(c: Record<string, unknown>, name: string): number {
  const ports = (c.ports as { name?: string; containerPort: number }[] | undefined) ?? [];
  const p = ports.find((x) => x.name === name);
  if (!p) throw new Error(`container ${String(c.name)} has no port named ${name}`);
  return p.containerPort;
}
