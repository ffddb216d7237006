import { describe, expect, it } from "vitest";
import type { K8sObject } from "./kustomize-render.js";
import { containerEnv, expandDependentVars } from "./pod-env.js";

describe("containerEnv", () => {
  it("expands $(VAR) from earlier variables only, keeps unknown references, and unescapes $$", () => {
    expect(expandDependentVars("redis://:$(PW)@redis:6379", { PW: "s3cret" })).toBe("redis://:s3cret@redis:6379");
    expect(expandDependentVars("$(MISSING)-x", {})).toBe("$(MISSING)-x");
    expect(expandDependentVars("$$(PW)", { PW: "s3cret" })).toBe("$(PW)");
  });

  it("resolves envFrom, Secret and ConfigMap keys, the pod name and IP, and a variable used before its definition stays literal", () => {
    const objects: K8sObject[] = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, data: { LOG_LEVEL: "debug", mode: "fast" } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "sec" }, data: { password: Buffer.from("pw").toString("base64") } },
    ];
    const env = containerEnv(
      objects,
      {
        envFrom: [{ configMapRef: { name: "cfg" } }],
        env: [
          { name: "EARLY", value: "$(PASSWORD)" },
          { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "sec", key: "password" } } },
          { name: "MODE", valueFrom: { configMapKeyRef: { name: "cfg", key: "mode" } } },
          { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "URL", value: "x://$(PASSWORD)/$(MODE)/$(LOG_LEVEL)" },
        ],
      },
      "pod-1",
      "10.1.2.3",
    );
    expect(env).toMatchObject({ LOG_LEVEL: "debug", EARLY: "$(PASSWORD)", PASSWORD: "pw", MODE: "fast", POD: "pod-1", IP: "10.1.2.3", URL: "x://pw/fast/debug" });
    expect(() => containerEnv(objects, { env: [{ name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] }, "pod-1")).toThrow(/unsupported source/);
  });
});
