import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PORTS } from "../services/shared/config.js";
import { K8S_DIR, type K8sObject } from "./kustomize-render.js";
import { OVERLAYS, renderAll } from "./rendered-overlays.js";

const doc = readFileSync(join(K8S_DIR, "..", "docs", "operations.md"), "utf8");

let rendered: Map<string, K8sObject[]>;
let cleanup: () => void;
beforeAll(() => {
  ({ rendered, cleanup } = renderAll(["overlays/prod-monitoring", "overlays/dev", "overlays/prod-redis-cluster", "overlays/prod-external-history-db"]));
});
afterAll(() => cleanup());

/** Every match of a pattern's first group in the runbook. */
function mentions(pattern: RegExp): string[] {
  return [...new Set([...doc.matchAll(pattern)].map((m) => m[1] as string))];
}

describe("docs/operations.md matches the manifests", () => {
  const objects = (): K8sObject[] => rendered.get("overlays/prod-monitoring") ?? [];
  /** What the runbook may name: the prod overlays, on the single Redis, on the Redis Cluster and with a managed history database. */
  const everything = (): K8sObject[] => [
    ...objects(),
    ...(rendered.get("overlays/prod-redis-cluster") ?? []),
    ...(rendered.get("overlays/prod-external-history-db") ?? []),
  ];
  const names = (kind: string): string[] => everything().filter((o) => o.kind === kind).map((o) => o.metadata.name);

  it("every workload, pod, PVC and label selector it names exists", () => {
    const deployments = mentions(/deployment\/([a-z0-9-]+)/g);
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) expect(names("Deployment"), `deployment/${d}`).toContain(d);
    for (const s of mentions(/statefulset\/([a-z0-9-]+)/g)) expect(names("StatefulSet"), `statefulset/${s}`).toContain(s);
    for (const s of mentions(/statefulset ([a-z0-9-]+) --replicas/g)) expect(names("StatefulSet")).toContain(s);
    const podLabels = new Set(everything().flatMap((o) => Object.entries(((o.spec as { template?: { metadata?: { labels?: Record<string, string> } } })?.template?.metadata?.labels) ?? {}).map(([k, v]) => `${k}=${v}`)));
    const selectors = mentions(/-l ([a-z0-9./-]+=[a-z0-9-]+)/g);
    expect(selectors.length).toBeGreaterThanOrEqual(3);
    for (const sel of selectors) expect(podLabels, sel).toContain(sel);
    const sts = objects().find((o) => o.kind === "StatefulSet" && o.metadata.name === "redis");
    const claim = (sts?.spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates[0]?.metadata.name;
    expect(doc).toContain(`${claim}-redis-0`);
    const restorePod = readFileSync(join(K8S_DIR, "tools", "redis-restore-pod.yaml"), "utf8");
    expect(restorePod).toContain(`claimName: ${claim}-redis-0`);
  });

  it("names the Redis Cluster's pods, claims, Job and objects as the cluster overlay renders them", () => {
    const cluster = rendered.get("overlays/prod-redis-cluster") ?? [];
    const shardSets = cluster.filter((o) => o.kind === "StatefulSet" && o.metadata.name.startsWith("redis-shard-"));
    expect(shardSets.length).toBe(3);
    const pods = new Set(shardSets.flatMap((s) => [0, 1].map((i) => `${s.metadata.name}-${i}`)));
    const claims = new Set(shardSets.flatMap((s) => [0, 1].map((i) => `data-${s.metadata.name}-${i}`)));
    const mentionedPods = mentions(/\b(redis-shard-\d+-\d+)\b/g).filter((p) => !p.startsWith("data-"));
    expect(mentionedPods.length).toBeGreaterThan(2);
    for (const p of mentionedPods) expect(pods, p).toContain(p);
    for (const c of mentions(/\b(data-redis-shard-\d+-\d+)\b/g)) expect(claims, c).toContain(c);
    for (const j of mentions(/job\/([a-z0-9-]+)/g)) expect(cluster.filter((o) => o.kind === "Job").map((o) => o.metadata.name), j).toContain(j);
    for (const n of ["redis-cluster", "redis-cluster-init", "redis-cluster-scripts", "redis-cluster-client"]) expect(doc).toContain(`\`${n}\``);
    for (const p of cluster.filter((o) => o.kind === "NetworkPolicy")) expect(doc, p.metadata.name).toContain(`\`${p.metadata.name}\``);
  });

  it("names the overlays' namespaces and the ports the services listen on", () => {
    for (const o of OVERLAYS) if (o.namespace) expect(doc).toContain(o.namespace);
    for (const [name, port] of [["grpc", DEFAULT_PORTS.canvasGrpc], ["http", DEFAULT_PORTS.canvasHttp], ["http", DEFAULT_PORTS.gateway], ["http", DEFAULT_PORTS.web]] as const) {
      expect(doc).toContain(`\`${name}: ${port}\``);
    }
  });

  it("states the replica counts, images, ConfigMaps, Secret and Ingresses the overlays render", () => {
    const replicas = (kind: string, name: string): number =>
      ((objects().find((o) => o.kind === kind && o.metadata.name === name)?.spec as { replicas: number }).replicas);
    expect(doc).toContain(`gateway ${replicas("Deployment", "gateway")} (HPA`);
    expect(doc).toContain(`canvas ${replicas("Deployment", "canvas")}, web ${replicas("Deployment", "web")}`);
    const imageOf = (name: string): string =>
      (objects().find((o) => o.kind === "StatefulSet" && o.metadata.name === name)?.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image ?? "";
    expect(doc).toContain(`\`${imageOf("redis")}\``);
    expect(doc).toContain(`\`${imageOf("history-db")}\``);
    for (const n of ["pixel-config", "redis-config", "redis-auth", "history-db-client", "history-db"]) expect(doc).toContain(`\`${n}\``);
    for (const n of names("Ingress")) expect(doc).toContain(`\`${n}\``);
    for (const n of names("NetworkPolicy").filter((x) => !x.startsWith("allow-prometheus-"))) expect(doc).toContain(`\`${n}\``);
    // The history database's volume claim and the parts of HISTORY_DATABASE_URL an operator sets.
    const db = objects().find((o) => o.kind === "StatefulSet" && o.metadata.name === "history-db");
    const dbClaim = (db?.spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates[0]?.metadata.name;
    expect(doc).toContain(`${dbClaim}-history-db-0`);
    const parts = Object.keys((objects().find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("history-db-client"))?.data ?? {}) as Record<string, string>);
    expect(parts.length).toBeGreaterThan(0);
    for (const key of parts) expect(doc, key).toContain(`\`${key}\``);
    const dev = rendered.get("overlays/dev") ?? [];
    const devFsync = (dev.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("redis-config"))?.data as Record<string, string>).appendfsync;
    expect(doc).toContain(`\`${devFsync}\` (base, dev)`);
  });
});
