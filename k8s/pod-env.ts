/**
 * Computes a container's environment the way the kubelet does, from rendered manifests, so a
 * test can start the real service with exactly what a pod would get.
 */
import type { K8sObject } from "./kustomize-render.js";

type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
};
type EnvFrom = { configMapRef?: { name: string }; secretRef?: { name: string } };

function dataOf(objects: K8sObject[], kind: "ConfigMap" | "Secret", name: string): Record<string, string> {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`${kind}/${name} is not rendered`);
  const data = (obj.data ?? {}) as Record<string, string>;
  if (kind === "ConfigMap") return data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

/**
 * Expands `$(NAME)` references to variables defined earlier; `$$` escapes, and an unknown
 * reference stays as written (both as the Kubernetes API documents).
 */
export function expandDependentVars(value: string, defined: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    return name !== undefined && Object.hasOwn(defined, name) ? (defined[name] as string) : match;
  });
}

/**
 * The environment of a container: envFrom first, then env in order with dependent expansion.
 * `podIP` stands in for status.podIP; a container that reads it without one is an error.
 */
export function containerEnv(objects: K8sObject[], container: Record<string, unknown>, podName: string, podIP?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of (container.envFrom as EnvFrom[] | undefined) ?? []) {
    if (from.configMapRef) Object.assign(env, dataOf(objects, "ConfigMap", from.configMapRef.name));
    if (from.secretRef) Object.assign(env, dataOf(objects, "Secret", from.secretRef.name));
  }
  for (const v of (container.env as EnvVar[] | undefined) ?? []) {
    if (v.value !== undefined) env[v.name] = expandDependentVars(v.value, env);
    else if (v.valueFrom?.secretKeyRef) env[v.name] = dataOf(objects, "Secret", v.valueFrom.secretKeyRef.name)[v.valueFrom.secretKeyRef.key] ?? "";
    else if (v.valueFrom?.configMapKeyRef) env[v.name] = dataOf(objects, "ConfigMap", v.valueFrom.configMapKeyRef.name)[v.valueFrom.configMapKeyRef.key] ?? "";
    else if (v.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[v.name] = podName;
    else if (v.valueFrom?.fieldRef?.fieldPath === "status.podIP" && podIP !== undefined) env[v.name] = podIP;
    else throw new Error(`env ${v.name}: unsupported source`);
  }
  return env;
}
