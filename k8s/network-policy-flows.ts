/**
 * Evaluates NetworkPolicies the way the Kubernetes API defines them, so the tests can compute
 * every (from, to, port) flow a set of policies allows and compare it to the intended set.
 */
import type { K8sObject } from "./kustomize-render.js";

/** A pod the flows are computed between. */
export interface Endpoint {
  /** Short name used in flow strings, e.g. "gateway" or "ingress-nginx". */
  id: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  podLabels: Record<string, string>;
  /** Ports the pod listens on (named ports resolve against these). */
  ports: { port: number; protocol: string; name?: string }[];
  /**
   * An IPv4 address outside the cluster (a managed database): only ipBlock peers match such an
   * endpoint, and ipBlock peers match nothing else (pod IPs are not modelled).
   */
  ip?: string;
}

type Selector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};
type IpBlock = { cidr: string; except?: string[] };
type Peer = { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: IpBlock };
type PolicyPort = { port?: number | string; protocol?: string; endPort?: number };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: PolicyPort[] };
type PolicySpec = {
  podSelector: Selector;
  policyTypes?: string[];
  ingress?: Rule[];
  egress?: Rule[];
};

/** True when the labels satisfy a label selector (an empty selector matches everything). */
export function selectorMatches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case "In":
        if (!has || !(e.values ?? []).includes(value as string)) return false;
        break;
      case "NotIn":
        if (has && (e.values ?? []).includes(value as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  }
  return true;
}

function policyTypes(spec: PolicySpec): string[] {
  // The API's default: Ingress always, Egress only when egress rules are present.
  return spec.policyTypes ?? (spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
}

/** An IPv4 address as a 32-bit number; throws on anything else (this tree uses IPv4 only). */
function ipv4(address: string): number {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`${address} is not an IPv4 address`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

/** True when an IPv4 address lies in a CIDR block. */
export function inCidr(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`${cidr} is not an IPv4 CIDR`);
  const size = 2 ** (32 - prefix);
  return Math.floor(ipv4(address) / size) === Math.floor(ipv4(base) / size);
}

function peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock !== undefined) {
    const block = peer.ipBlock;
    return other.ip !== undefined && inCidr(other.ip, block.cidr) && !(block.except ?? []).some((e) => inCidr(other.ip as string, e));
  }
  if (other.ip !== undefined) return false;
  if (peer.namespaceSelector) {
    return selectorMatches(peer.namespaceSelector, other.namespaceLabels) && selectorMatches(peer.podSelector, other.podLabels);
  }
  return other.namespace === policyNamespace && selectorMatches(peer.podSelector, other.podLabels);
}

function portMatches(ports: PolicyPort[] | undefined, dst: Endpoint, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "string") {
      return dst.ports.some((dp) => dp.name === p.port && dp.port === port && dp.protocol === protocol);
    }
    return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort;
  });
}

function direction(
  policies: K8sObject[],
  subject: Endpoint,
  other: Endpoint,
  dst: Endpoint,
  port: number,
  protocol: string,
  type: "Ingress" | "Egress",
): boolean {
  const applying = policies.filter((p) => {
    const spec = p.spec as PolicySpec;
    return p.metadata.namespace === subject.namespace && selectorMatches(spec.podSelector, subject.podLabels) && policyTypes(spec).includes(type);
  });
  if (applying.length === 0) return true;
  return applying.some((p) => {
    const spec = p.spec as PolicySpec;
    const rules = (type === "Ingress" ? spec.ingress : spec.egress) ?? [];
    return rules.some((r) => {
      const peers = type === "Ingress" ? r.from : r.to;
      const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.metadata.namespace ?? "", other));
      return peerOk && portMatches(r.ports, dst, port, protocol);
    });
  });
}

/** True when the policies let `src` open a connection to `dst` on port/protocol. */
export function flowAllowed(policies: K8sObject[], src: Endpoint, dst: Endpoint, port: number, protocol: string): boolean {
  return direction(policies, src, dst, dst, port, protocol, "Egress") && direction(policies, dst, src, dst, port, protocol, "Ingress");
}

/**
 * Every allowed flow as "from -> to:port/PROTO" between the endpoints, over every port any
 * endpoint listens on or any policy mentions. Pairs where neither side is in `governedNamespace`
 * are left out: these policies say nothing about them.
 */
export function allowedFlows(policies: K8sObject[], endpoints: Endpoint[], governedNamespace: string): Set<string> {
  const candidates = new Map<string, { port: number; protocol: string }>();
  const addCandidate = (port: number, protocol: string): void => {
    candidates.set(`${port}/${protocol}`, { port, protocol });
  };
  for (const e of endpoints) for (const p of e.ports) addCandidate(p.port, p.protocol);
  for (const p of policies) {
    const spec = p.spec as PolicySpec;
    for (const r of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
      for (const port of r.ports ?? []) if (typeof port.port === "number") addCandidate(port.port, port.protocol ?? "TCP");
    }
  }
  const out = new Set<string>();
  for (const src of endpoints) {
    for (const dst of endpoints) {
      if (src === dst) continue;
      if (src.namespace !== governedNamespace && dst.namespace !== governedNamespace) continue;
      for (const { port, protocol } of candidates.values()) {
        if (flowAllowed(policies, src, dst, port, protocol)) out.add(`${src.id} -> ${dst.id}:${port}/${protocol}`);
      }
    }
  }
  return out;
}
