/**
 * Validates rendered objects against the Kubernetes OpenAPI schemas (kubernetes-models 4.5) and
 * the Prometheus Operator CRDs this tree uses against their documented shape.
 */
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Pod, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import type { K8sObject } from "./kustomize-render.js";

type Validator = (obj: K8sObject) => void;

// The constructors' data types are the exact API types; the objects come from YAML, so they go
// in as unknown and the schema validation is what checks them.
const BUILTIN: Record<string, Validator> = {
  "apps/v1/Deployment": (o) => new Deployment(o as never).validate(),
  "apps/v1/StatefulSet": (o) => new StatefulSet(o as never).validate(),
  "batch/v1/Job": (o) => new Job(o as never).validate(),
  "autoscaling/v2/HorizontalPodAutoscaler": (o) => new HorizontalPodAutoscaler(o as never).validate(),
  "networking.k8s.io/v1/Ingress": (o) => new Ingress(o as never).validate(),
  "networking.k8s.io/v1/NetworkPolicy": (o) => new NetworkPolicy(o as never).validate(),
  "policy/v1/PodDisruptionBudget": (o) => new PodDisruptionBudget(o as never).validate(),
  "v1/ConfigMap": (o) => new ConfigMap(o as never).validate(),
  "v1/Namespace": (o) => new Namespace(o as never).validate(),
  "v1/Pod": (o) => new Pod(o as never).validate(),
  "v1/Secret": (o) => new Secret(o as never).validate(),
  "v1/Service": (o) => new Service(o as never).validate(),
  "v1/ServiceAccount": (o) => new ServiceAccount(o as never).validate(),
  "monitoring.coreos.com/v1/ServiceMonitor": validateServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": validatePrometheusRule,
};

/** A Prometheus duration such as 30s, 5m or 1h30m. */
export const PROM_DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

function fail(obj: K8sObject, message: string): never {
  throw new Error(`${obj.kind}/${obj.metadata?.name}: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkMeta(obj: K8sObject): void {
  if (!isRecord(obj.metadata) || typeof obj.metadata.name !== "string" || obj.metadata.name === "") {
    fail(obj, "metadata.name is required");
  }
}

function validateServiceMonitor(obj: K8sObject): void {
  checkMeta(obj);
  const spec = obj.spec;
  if (!isRecord(spec)) fail(obj, "spec is required");
  if (!isRecord(spec.selector)) fail(obj, "spec.selector is required");
  if (!Array.isArray(spec.endpoints) || spec.endpoints.length === 0) fail(obj, "spec.endpoints must be a non-empty list");
  for (const [i, e] of spec.endpoints.entries()) {
    if (!isRecord(e)) fail(obj, `spec.endpoints[${i}] must be an object`);
    if (typeof e.port !== "string" || e.port === "") fail(obj, `spec.endpoints[${i}].port must name a Service port`);
    if (e.path !== undefined && (typeof e.path !== "string" || !e.path.startsWith("/"))) fail(obj, `spec.endpoints[${i}].path must be absolute`);
    if (e.interval !== undefined && !PROM_DURATION.test(String(e.interval))) fail(obj, `spec.endpoints[${i}].interval is not a duration`);
  }
}

function validatePrometheusRule(obj: K8sObject): void {
  checkMeta(obj);
  const spec = obj.spec;
  if (!isRecord(spec) || !Array.isArray(spec.groups) || spec.groups.length === 0) fail(obj, "spec.groups must be a non-empty list");
  const groupNames = new Set<string>();
  for (const [gi, g] of spec.groups.entries()) {
    if (!isRecord(g) || typeof g.name !== "string" || g.name === "") fail(obj, `spec.groups[${gi}].name is required`);
    if (groupNames.has(g.name)) fail(obj, `group name ${g.name} is repeated`);
    groupNames.add(g.name);
    if (!Array.isArray(g.rules) || g.rules.length === 0) fail(obj, `group ${g.name} has no rules`);
    for (const [ri, r] of g.rules.entries()) {
      const where = `group ${g.name} rule ${ri}`;
      if (!isRecord(r)) fail(obj, `${where} must be an object`);
      const kinds = [typeof r.alert === "string", typeof r.record === "string"].filter(Boolean).length;
      if (kinds !== 1) fail(obj, `${where} needs exactly one of alert or record`);
      if (typeof r.expr !== "string" || r.expr.trim() === "") fail(obj, `${where} needs an expr`);
      if (r.for !== undefined && !PROM_DURATION.test(String(r.for))) fail(obj, `${where}: for is not a duration`);
      for (const field of ["labels", "annotations"]) {
        const map = r[field];
        if (map === undefined) continue;
        if (!isRecord(map) || Object.values(map).some((v) => typeof v !== "string")) fail(obj, `${where}: ${field} must map strings to strings`);
      }
    }
  }
}

/** Throws with the object and the path of the first schema violation; unknown kinds are errors. */
export function validateObject(obj: K8sObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const validator = BUILTIN[key];
  if (!validator) throw new Error(`no schema for ${key} (${obj.metadata?.name}): add it to k8s/schema-validate.ts`);
  try {
    validator(obj);
  } catch (err) {
    throw new Error(`${key} ${obj.metadata?.name}: ${(err as Error).message}`);
  }
}
