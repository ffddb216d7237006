import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PORTS } from "../services/shared/config.js";
import type { K8sObject } from "./kustomize-render.js";
import { allowedFlows, type Endpoint, flowAllowed, inCidr } from "./network-policy-flows.js";
import { OVERLAYS, podTemplate, renderAll, workloads } from "./rendered-overlays.js";

const ns = (name: string): Record<string, string> => ({ "kubernetes.io/metadata.name": name });

/** The managed database's address in overlays/prod-external-history-db. */
const MANAGED_DB_IP = "192.0.2.20";

/** Pods outside the application the policies must let in or out, and some they must not. */
function externalEndpoints(appNamespace: string): Endpoint[] {
  return [
    // Outside the cluster: the managed PostgreSQL of k8s/components/external-history-db, a host next
    // to it, and one on the internet; only canvas and archiver may reach the first, on 5432 only.
    { id: "managed-postgres", namespace: "", namespaceLabels: {}, podLabels: {}, ports: [{ port: 5432, protocol: "TCP" }], ip: MANAGED_DB_IP },
    { id: "neighbour-host", namespace: "", namespaceLabels: {}, podLabels: {}, ports: [{ port: 5432, protocol: "TCP" }], ip: "192.0.2.21" },
    { id: "internet", namespace: "", namespaceLabels: {}, podLabels: {}, ports: [{ port: 443, protocol: "TCP" }], ip: "198.51.100.7" },
    {
      id: "ingress-nginx",
      namespace: "ingress-nginx",
      namespaceLabels: ns("ingress-nginx"),
      podLabels: { "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller" },
      ports: [{ port: 80, protocol: "TCP" }, { port: 443, protocol: "TCP" }],
    },
    {
      id: "kube-dns",
      namespace: "kube-system",
      namespaceLabels: ns("kube-system"),
      podLabels: { "k8s-app": "kube-dns" },
      ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }],
    },
    {
      id: "prometheus",
      namespace: "monitoring",
      namespaceLabels: ns("monitoring"),
      podLabels: { "app.kubernetes.io/name": "prometheus" },
      ports: [{ port: 9090, protocol: "TCP" }],
    },
    // Another pod in the application's namespace: default deny must cover it both ways.
    { id: "stranger", namespace: appNamespace, namespaceLabels: ns(appNamespace), podLabels: { app: "debug-shell" }, ports: [{ port: 8080, protocol: "TCP" }] },
    // A pod elsewhere that borrows our labels: it must not pass for one of ours.
    {
      id: "impostor",
      namespace: "other",
      namespaceLabels: ns("other"),
      podLabels: { "app.kubernetes.io/name": "gateway" },
      ports: [{ port: 3002, protocol: "TCP" }],
    },
  ];
}

function appEndpoints(objects: K8sObject[], namespace: string): Endpoint[] {
  return workloads(objects).map((w) => {
    const labels = podTemplate(w).metadata.labels;
    const containers = (podTemplate(w).spec.containers as { ports?: { name?: string; containerPort: number; protocol?: string }[] }[]) ?? [];
    return {
      id: labels["app.kubernetes.io/name"] ?? w.metadata.name,
      namespace,
      namespaceLabels: ns(namespace),
      podLabels: labels,
      ports: containers.flatMap((c) => (c.ports ?? []).map((p) => ({ port: p.containerPort, protocol: p.protocol ?? "TCP", name: p.name }))),
    };
  });
}

/** The flows the system needs, and nothing else (issue 4). */
const EXPECTED = [
  `ingress-nginx -> web:${DEFAULT_PORTS.web}/TCP`,
  `ingress-nginx -> canvas:${DEFAULT_PORTS.canvasHttp}/TCP`,
  `ingress-nginx -> gateway:${DEFAULT_PORTS.gateway}/TCP`,
  `gateway -> canvas:${DEFAULT_PORTS.canvasGrpc}/TCP`,
  "gateway -> redis:6379/TCP",
  "canvas -> redis:6379/TCP",
  "archiver -> redis:6379/TCP",
  "gateway -> kube-dns:53/UDP",
  "gateway -> kube-dns:53/TCP",
  "canvas -> kube-dns:53/UDP",
  "canvas -> kube-dns:53/TCP",
  "archiver -> kube-dns:53/UDP",
  "archiver -> kube-dns:53/TCP",
];

/** The placement log's clients (issue 12): canvas reads it, the archiver writes it; nothing else reaches it. */
const HISTORY_IN_CLUSTER = ["canvas -> history-db:5432/TCP", "archiver -> history-db:5432/TCP"];
/** The same clients with k8s/components/external-history-db: the managed database's address only. */
const HISTORY_EXTERNAL = ["canvas -> managed-postgres:5432/TCP", "archiver -> managed-postgres:5432/TCP"];

/**
 * What the Redis Cluster component adds: replication (6379) and the cluster bus (16379) between
 * the shard pods, and the init Job's DNS lookups and commands; nothing else reaches the bus.
 */
const CLUSTER = [
  "redis -> redis:6379/TCP",
  "redis -> redis:16379/TCP",
  "redis-cluster-init -> redis:6379/TCP",
  "redis-cluster-init -> kube-dns:53/UDP",
  "redis-cluster-init -> kube-dns:53/TCP",
];

/** What the monitoring component adds: Prometheus scrapes each /metrics port. */
const SCRAPES = [
  `prometheus -> web:${DEFAULT_PORTS.web}/TCP`,
  `prometheus -> canvas:${DEFAULT_PORTS.canvasHttp}/TCP`,
  `prometheus -> gateway:${DEFAULT_PORTS.gateway}/TCP`,
  // The archiver's ARCHIVER_HTTP_PORT (services/history/main.ts).
  "prometheus -> archiver:3004/TCP",
];

let rendered: Map<string, K8sObject[]>;
let cleanup: () => void;
beforeAll(() => {
  ({ rendered, cleanup } = renderAll());
});
afterAll(() => cleanup());

describe("NetworkPolicies", () => {
  for (const overlay of OVERLAYS) {
    const extra = [
      overlay.target.includes("monitoring") ? " plus Prometheus scrapes" : "",
      overlay.redis === "cluster" ? " plus the Redis Cluster's own" : "",
      overlay.historyDb === "external" ? " with the managed history database" : "",
    ].join("");
    it(`${overlay.target} allows exactly the required flows${extra}`, () => {
      const namespace = overlay.namespace ?? "default";
      const objects = (rendered.get(overlay.target) ?? []).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? namespace } }));
      const policies = objects.filter((o) => o.kind === "NetworkPolicy");
      const endpoints = [...appEndpoints(objects, namespace), ...externalEndpoints(namespace)];
      const expected = [
        ...EXPECTED,
        ...(overlay.target.includes("monitoring") ? SCRAPES : []),
        ...(overlay.redis === "cluster" ? CLUSTER : []),
        ...(overlay.historyDb === "external" ? HISTORY_EXTERNAL : HISTORY_IN_CLUSTER),
      ];
      expect([...allowedFlows(policies, endpoints, namespace)].sort()).toEqual([...expected].sort());
    });

    it(`${overlay.target} starts from a default deny of ingress and egress and never allows all egress`, () => {
      const policies = (rendered.get(overlay.target) ?? []).filter((o) => o.kind === "NetworkPolicy");
      const denyAll = policies.filter((p) => {
        const spec = p.spec as { podSelector: Record<string, unknown>; policyTypes?: string[]; ingress?: unknown[]; egress?: unknown[] };
        return Object.keys(spec.podSelector).length === 0 && !spec.ingress && !spec.egress;
      });
      expect(denyAll.map((p) => (p.spec as { policyTypes: string[] }).policyTypes.sort())).toEqual([["Egress", "Ingress"]]);
      for (const p of policies) {
        const spec = p.spec as { ingress?: { from?: unknown[] }[]; egress?: { to?: unknown[]; ports?: unknown[] }[] };
        for (const rule of spec.egress ?? []) {
          expect(rule.to?.length ?? 0, `${p.metadata.name}: egress rule without peers`).toBeGreaterThan(0);
          expect(rule.ports?.length ?? 0, `${p.metadata.name}: egress rule without ports`).toBeGreaterThan(0);
        }
        for (const rule of spec.ingress ?? []) expect(rule.from?.length ?? 0, `${p.metadata.name}: ingress rule without peers`).toBeGreaterThan(0);
      }
    });
  }
});

describe("the flow evaluator", () => {
  const base = (extra: Partial<K8sObject> & { spec: unknown }): K8sObject => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "p", namespace: "app" }, ...extra });
  const a: Endpoint = { id: "a", namespace: "app", namespaceLabels: ns("app"), podLabels: { role: "a" }, ports: [{ port: 80, protocol: "TCP", name: "http" }] };
  const b: Endpoint = { id: "b", namespace: "app", namespaceLabels: ns("app"), podLabels: { role: "b" }, ports: [{ port: 80, protocol: "TCP", name: "http" }] };

  it("allows everything without policies and nothing under a default deny", () => {
    expect(flowAllowed([], a, b, 80, "TCP")).toBe(true);
    const deny = base({ spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } });
    expect(flowAllowed([deny], a, b, 80, "TCP")).toBe(false);
  });

  it("needs both the source's egress and the destination's ingress, matching named ports and protocols", () => {
    const deny = base({ spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } });
    const egress = base({ metadata: { name: "e", namespace: "app" }, spec: { podSelector: { matchLabels: { role: "a" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { role: "b" } } }], ports: [{ port: "http" }] }] } });
    const ingress = base({ metadata: { name: "i", namespace: "app" }, spec: { podSelector: { matchLabels: { role: "b" } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: "a" } } }], ports: [{ port: 80, protocol: "TCP" }] }] } });
    expect(flowAllowed([deny, egress], a, b, 80, "TCP")).toBe(false);
    expect(flowAllowed([deny, egress, ingress], a, b, 80, "TCP")).toBe(true);
    expect(flowAllowed([deny, egress, ingress], a, b, 80, "UDP")).toBe(false);
    expect(flowAllowed([deny, egress, ingress], b, a, 80, "TCP")).toBe(false);
  });

  it("matches ipBlock peers (with except) to addresses outside the cluster only, and selectors never to those", () => {
    const out: Endpoint = { id: "db", namespace: "", namespaceLabels: {}, podLabels: {}, ports: [{ port: 5432, protocol: "TCP" }], ip: "10.1.2.3" };
    const deny = base({ spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } });
    const toBlock = (block: unknown): K8sObject =>
      base({ metadata: { name: "e", namespace: "app" }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: block }], ports: [{ port: 5432 }] }] } });
    expect(flowAllowed([deny, toBlock({ cidr: "10.1.0.0/16" })], a, out, 5432, "TCP")).toBe(true);
    expect(flowAllowed([deny, toBlock({ cidr: "10.1.0.0/16", except: ["10.1.2.0/24"] })], a, out, 5432, "TCP")).toBe(false);
    expect(flowAllowed([deny, toBlock({ cidr: "10.2.0.0/16" })], a, out, 5432, "TCP")).toBe(false);
    expect(flowAllowed([deny, toBlock({ cidr: "0.0.0.0/0" })], a, b, 80, "TCP")).toBe(false);
    const anyPod = base({ metadata: { name: "e", namespace: "app" }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ namespaceSelector: {} }] }] } });
    expect(flowAllowed([deny, anyPod], a, out, 5432, "TCP")).toBe(false);
    expect(inCidr("192.0.2.20", "192.0.2.20/32")).toBe(true);
    expect(inCidr("192.0.2.21", "192.0.2.20/32")).toBe(false);
    expect(() => inCidr("::1", "0.0.0.0/0")).toThrow(/IPv4/);
  });
});
