import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containersOf, type K8sObject } from "./kustomize-render.js";
import { selectorMatches } from "./network-policy-flows.js";
import { container, find, findGenerated, podTemplate, renderAll } from "./rendered-overlays.js";

/**
 * k8s/components/redis-cluster as rendered in overlays/prod-redis-cluster: the claims its
 * comments and docs/operations.md make, checked on the objects kubectl would apply.
 */
const TARGET = "overlays/prod-redis-cluster";
const SHARD_LABEL = "pixel-playground/redis-shard";
const SHARDS = ["redis-shard-0", "redis-shard-1", "redis-shard-2"];

type Selector = { matchLabels?: Record<string, string> };
type AffinityTerm = { topologyKey: string; labelSelector: Selector };
type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } };

let objects: K8sObject[];
let cleanup: () => void;
beforeAll(() => {
  const all = renderAll([TARGET]);
  objects = all.rendered.get(TARGET) ?? [];
  cleanup = all.cleanup;
});
afterAll(() => cleanup());

const shardSets = (): K8sObject[] => SHARDS.map((name) => find(objects, "StatefulSet", name));
/** The pod names of a StatefulSet, by ordinal. */
const podsOf = (sts: K8sObject): string[] =>
  Array.from({ length: (sts.spec as { replicas: number }).replicas }, (_, i) => `${sts.metadata.name}-${i}`);
const args = (sts: K8sObject): string[] => container(sts, "redis").args as string[];
/** The value after a redis-server flag. */
const flag = (sts: K8sObject, name: string): string | undefined => {
  const a = args(sts);
  const i = a.indexOf(`--${name}`);
  return i >= 0 ? a[i + 1] : undefined;
};
const envOf = (c: Record<string, unknown>): Map<string, EnvVar> => new Map(((c.env as EnvVar[]) ?? []).map((e) => [e.name, e]));

describe("Redis Cluster (overlays/prod-redis-cluster)", () => {
  it("has three shard StatefulSets that differ only in their shard index", () => {
    const normalized = shardSets().map((sts, i) =>
      JSON.stringify(sts).replaceAll(`redis-shard-${i}`, "redis-shard-N").replaceAll(`"${SHARD_LABEL}":"${i}"`, `"${SHARD_LABEL}":"N"`),
    );
    expect(new Set(normalized).size).toBe(1);
    expect(normalized[0]).not.toContain("redis-shard-0");
  });

  it("each shard is 2 pods, and no eviction can take both: one PDB of maxUnavailable 1 selects exactly them", () => {
    const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");
    for (const [i, sts] of shardSets().entries()) {
      expect((sts.spec as { replicas: number }).replicas, sts.metadata.name).toBe(2);
      const labels = podTemplate(sts).metadata.labels;
      expect(labels[SHARD_LABEL]).toBe(String(i));
      const covering = pdbs.filter((p) => selectorMatches((p.spec as { selector: Selector }).selector, labels));
      // Exactly one: the eviction API refuses a pod that two PDBs select.
      expect(covering.map((p) => p.metadata.name), sts.metadata.name).toEqual([sts.metadata.name]);
      const spec = covering[0]?.spec as { maxUnavailable?: number; minAvailable?: number; selector: Selector };
      expect(spec.maxUnavailable).toBe(1);
      expect(spec.minAvailable).toBeUndefined();
      // It selects no pod of another shard (or another app).
      for (const other of objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind) && o !== sts)) {
        expect(selectorMatches(spec.selector, podTemplate(other).metadata.labels), `${sts.metadata.name} PDB vs ${other.metadata.name}`).toBe(false);
      }
    }
  });

  it("the two pods of a shard never share a node (required anti-affinity on its own pods), and all Redis pods prefer their own node", () => {
    for (const sts of shardSets()) {
      const affinity = podTemplate(sts).spec.affinity as {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: AffinityTerm[]; preferredDuringSchedulingIgnoredDuringExecution: { podAffinityTerm: AffinityTerm }[] };
      };
      const required = affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
      expect(required).toHaveLength(1);
      expect(required[0]?.topologyKey).toBe("kubernetes.io/hostname");
      const own = podTemplate(sts).metadata.labels;
      expect(selectorMatches(required[0]?.labelSelector, own), sts.metadata.name).toBe(true);
      for (const other of shardSets().filter((o) => o !== sts)) {
        expect(selectorMatches(required[0]?.labelSelector, podTemplate(other).metadata.labels), `${sts.metadata.name} vs ${other.metadata.name}`).toBe(false);
      }
      const preferred = affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.map((p) => p.podAffinityTerm);
      expect(preferred.some((t) => t.topologyKey === "kubernetes.io/hostname" && shardSets().every((o) => selectorMatches(t.labelSelector, podTemplate(o).metadata.labels)))).toBe(true);
    }
  });

  it("pods are reached through one headless Service that publishes them before they are ready, on the client port and the bus", () => {
    const svc = find(objects, "Service", "redis-cluster");
    const spec = svc.spec as { clusterIP: string; publishNotReadyAddresses: boolean; ports: { name: string; port: number }[]; selector: Record<string, string> };
    expect(spec.clusterIP).toBe("None");
    expect(spec.publishNotReadyAddresses).toBe(true);
    expect(Object.fromEntries(spec.ports.map((p) => [p.name, p.port]))).toEqual({ redis: 6379, bus: 16379 });
    for (const sts of shardSets()) {
      expect((sts.spec as { serviceName: string }).serviceName).toBe("redis-cluster");
      expect((sts.spec as { podManagementPolicy: string }).podManagementPolicy).toBe("Parallel");
      expect(selectorMatches({ matchLabels: spec.selector }, podTemplate(sts).metadata.labels)).toBe(true);
    }
    for (const gone of [["StatefulSet", "redis"], ["Service", "redis"], ["Service", "redis-headless"], ["NetworkPolicy", "redis"]]) {
      expect(objects.some((o) => o.kind === gone[0] && o.metadata.name === gone[1]), `${gone.join("/")} of the single Redis`).toBe(false);
    }
  });

  it("every node runs in cluster mode on its volume, announces its pod IP, persists with AOF (always in prod) and requires the password", () => {
    for (const sts of shardSets()) {
      const c = container(sts, "redis");
      expect(c.image).toMatch(/^redis:7\.\d+\.\d+(@sha256:[a-f0-9]{64})?$/);
      expect(flag(sts, "cluster-enabled")).toBe("yes");
      expect(flag(sts, "dir")).toBe("/data");
      expect(flag(sts, "cluster-config-file")).toBe("/data/nodes.conf");
      expect((c.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.mountPath === "/data")?.name).toBe("data");
      const claims = (sts.spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates.map((t) => t.metadata.name);
      expect(claims).toEqual(["data"]);
      const env = envOf(c);
      expect(flag(sts, "cluster-announce-ip")).toBe("$(POD_IP)");
      expect(env.get("POD_IP")?.valueFrom?.fieldRef?.fieldPath).toBe("status.podIP");
      expect(flag(sts, "cluster-announce-hostname")).toBe("$(POD_NAME).redis-cluster");
      expect(env.get("POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
      expect(flag(sts, "cluster-preferred-endpoint-type")).toBe("ip");
      expect(flag(sts, "cluster-allow-replica-migration")).toBe("no");
      expect(flag(sts, "appendonly")).toBe("yes");
      expect(flag(sts, "appendfsync")).toBe("$(REDIS_APPENDFSYNC)");
      const fsync = env.get("REDIS_APPENDFSYNC")?.valueFrom?.configMapKeyRef;
      expect((find(objects, "ConfigMap", fsync?.name ?? "").data as Record<string, string>)[fsync?.key ?? ""]).toBe("always");
      expect(flag(sts, "requirepass")).toBe("$(REDIS_PASSWORD)");
      expect(flag(sts, "masterauth")).toBe("$(REDIS_PASSWORD)");
      expect(flag(sts, "maxmemory-policy")).toBe("noeviction");
      // The bus listens on the client port + 10000, Redis' default, which the Service and policies name.
      expect(flag(sts, "cluster-port")).toBeUndefined();
      expect(Number(flag(sts, "port")) + 10000).toBe(16379);
    }
  });

  it("probes and preStop run scripts that the mounted ConfigMap holds; the grace period covers the preStop handover", () => {
    const scripts = findGenerated(objects, "ConfigMap", "redis-cluster-scripts");
    const files = Object.keys(scripts.data as Record<string, string>);
    const mounted = (w: K8sObject, name: string): void => {
      const c = container(w, name);
      expect((c.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.mountPath === "/scripts")?.name).toBe("scripts");
      const vol = (podTemplate(w).spec.volumes as { name: string; configMap?: { name: string } }[]).find((v) => v.name === "scripts");
      expect(vol?.configMap?.name).toBe(scripts.metadata.name);
    };
    const script = (command: string[] | undefined): string => {
      expect(command?.[0]).toBe("sh");
      const path = command?.[1] ?? "";
      expect(path.startsWith("/scripts/")).toBe(true);
      return path.slice("/scripts/".length);
    };
    for (const sts of shardSets()) {
      mounted(sts, "redis");
      const c = container(sts, "redis");
      expect(files).toContain(script((c.readinessProbe as { exec: { command: string[] } }).exec.command));
      expect(files).toContain(script((c.lifecycle as { preStop: { exec: { command: string[] } } }).preStop.exec.command));
      // pre-stop.sh waits at most ATTEMPTS (3) × 20 × 0.5 s for the handover; Redis then needs time to write its AOF.
      expect(podTemplate(sts).spec.terminationGracePeriodSeconds as number).toBeGreaterThanOrEqual(30 + 20);
    }
    const job = find(objects, "Job", "redis-cluster-init");
    mounted(job, "redis-cluster-init");
    expect(files).toContain(script(container(job, "redis-cluster-init").command as string[]));
    for (const file of files) expect(file).toMatch(/\.sh$/);
  });

  it("the init Job pairs exactly the StatefulSets' pods by shard, retries boundedly, and the clients' seed list names every pod", () => {
    const job = find(objects, "Job", "redis-cluster-init");
    const spec = job.spec as { backoffLimit: number; activeDeadlineSeconds: number; ttlSecondsAfterFinished: number; template: { spec: { restartPolicy: string } } };
    expect(spec.backoffLimit).toBeGreaterThan(0);
    expect(spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(spec.template.spec.restartPolicy).toBe("OnFailure");
    const env = envOf(container(job, "redis-cluster-init"));
    const address = (pod: string): string => `${pod}.redis-cluster:6379`;
    const shards = (env.get("SHARD_PODS")?.value ?? "").trim().split(/\s+/).map((s) => s.split(","));
    expect(shards).toEqual(shardSets().map((sts) => podsOf(sts).map(address)));
    expect(env.get("REDISCLI_AUTH")?.valueFrom?.secretKeyRef).toEqual({ name: findGenerated(objects, "Secret", "redis-auth").metadata.name, key: "password" });
    const client = findGenerated(objects, "ConfigMap", "redis-cluster-client").data as Record<string, string>;
    expect((client.REDIS_CLUSTER_NODES ?? "").split(",")).toEqual(shardSets().flatMap((sts) => podsOf(sts).map(address)));
    // Acknowledged means replicated: every write waits for the shard's one replica.
    expect(Number(client.REDIS_WAIT_REPLICAS)).toBe(1);
    expect(Number(client.REDIS_WAIT_TIMEOUT_MS)).toBeGreaterThan(0);
    for (const name of ["canvas", "gateway", "archiver"]) {
      for (const c of containersOf(find(objects, "Deployment", name))) {
        expect(envOf(c).has("REDIS_URL"), name).toBe(false);
      }
    }
  });
});
