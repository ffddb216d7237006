import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { freePort, waitFor } from "../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../tools/process/redis-server.js";
import { startService, type ServiceProcess } from "../tools/process/service-process.js";
import { containersOf, K8S_DIR, type K8sObject, parseYamlStream, prepareRenderTree, render, TEST_REDIS_PASSWORD } from "./kustomize-render.js";
import { containerEnv } from "./pod-env.js";
import { find, namedPort } from "./rendered-overlays.js";

type Probe = { httpGet?: { path: string; port: number | string }; grpc?: { port: number; service?: string } };
type Container = ReturnType<typeof containersOf>[number];

/**
 * The dev overlay's pods, run as real processes: each service gets the environment its manifest
 * gives it, with the cluster's addresses (Service names, fixed ports) mapped to 127.0.0.1 and free
 * ports, and every probe in the manifest is then run against it as the kubelet would.
 */
describe("the dev overlay's pods, run as processes with their manifests' env", () => {
  const SERVICES = ["canvas", "gateway", "web"] as const;
  let objects: K8sObject[];
  let redis: TestRedis;
  const portMap = new Map<number, number>();
  const procs: ServiceProcess[] = [];
  const manifestEnv = new Map<string, Record<string, string>>();
  const grpc = new Map<number, ReturnType<typeof createClient<typeof Health>>>();

  const container = (name: string): Container => containersOf(find(objects, "Deployment", name))[0] as Container;
  const local = (port: number): number => {
    const mapped = portMap.get(port);
    if (mapped === undefined) throw new Error(`no local port for ${port}`);
    return mapped;
  };
  /** Service DNS names and cluster ports become 127.0.0.1 and this test's free ports. */
  const localize = (env: Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = { ...env, HOST: "127.0.0.1" };
    for (const key of ["CANVAS_GRPC_PORT", "CANVAS_HTTP_PORT", "GATEWAY_PORT", "WEB_PORT"]) {
      if (out[key] !== undefined) out[key] = String(local(Number(out[key])));
    }
    for (const key of ["REDIS_URL", "CANVAS_URL"]) {
      const value = out[key];
      if (value === undefined) continue;
      const url = new URL(value);
      url.port = String(local(Number(url.port)));
      url.hostname = "127.0.0.1";
      out[key] = url.toString().replace(/\/$/, "");
    }
    return out;
  };

  /** Runs one probe of a container as the kubelet does; true on success. */
  async function probe(c: Container, p: Probe): Promise<boolean> {
    try {
      if (p.httpGet) {
        const port = typeof p.httpGet.port === "number" ? p.httpGet.port : namedPort(c, p.httpGet.port);
        const res = await fetch(`http://127.0.0.1:${local(port)}${p.httpGet.path}`, { signal: AbortSignal.timeout(3000) });
        await res.arrayBuffer();
        return res.status >= 200 && res.status < 400;
      }
      if (p.grpc) {
        const port = local(p.grpc.port);
        let client = grpc.get(port);
        if (!client) {
          client = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
          grpc.set(port, client);
        }
        const res = await client.check({ service: p.grpc.service ?? "" }, { timeoutMs: 3000 });
        return res.status === Status.SERVING;
      }
    } catch {
      return false;
    }
    throw new Error(`unsupported probe ${JSON.stringify(p)}`);
  }

  const waitProbe = (name: string, kind: "livenessProbe" | "readinessProbe" | "startupProbe", want: boolean): Promise<void> =>
    waitFor(`${name} ${kind} ${want ? "passing" : "failing"}`, async () => (await probe(container(name), container(name)[kind] as Probe)) === want, 20_000, 200);

  beforeAll(async () => {
    const built = spawnSync("test", ["-f", join(K8S_DIR, "..", "dist", "services", "canvas", "main.js")]);
    if (built.status !== 0) throw new Error("dist/ is missing: run npm run build first");
    const tree = prepareRenderTree();
    try {
      objects = render(join(tree.dir, "overlays", "dev"));
    } finally {
      tree.cleanup();
    }
    redis = await startRedis({ appendfsync: "everysec" });
    // The dev Secret holds the test tree's throwaway password; Redis requires it, as in the pod.
    spawnSync("redis-cli", ["-p", String(redis.port), "CONFIG", "SET", "requirepass", TEST_REDIS_PASSWORD]);
    portMap.set(6379, redis.port);
    for (const name of SERVICES) {
      for (const p of (container(name).ports as { containerPort: number }[]) ?? []) portMap.set(p.containerPort, await freePort());
    }
    for (const name of SERVICES) {
      const c = container(name);
      const env = containerEnv(objects, c, `${name}-7d9f8b6c5-x2x4z`);
      manifestEnv.set(name, env);
      const entry = ((c.command as string[])[1] ?? "").replace(/^dist\//, "");
      // Started once /healthz on the container's "http" port answers; the manifest's own start-up
      // probe (HTTP or gRPC) is then run by the test below.
      procs.push(await startService(`k8s-dev-${name}`, entry, localize(env), `http://127.0.0.1:${local(namedPort(c, "http"))}/healthz`));
    }
  }, 90_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    await redis?.stop();
  });

  it("builds REDIS_URL from the Secret's password and points the gateway at the canvas Service", () => {
    expect(manifestEnv.get("canvas")?.REDIS_URL).toBe(`redis://:${TEST_REDIS_PASSWORD}@redis:6379`);
    expect(manifestEnv.get("gateway")?.REDIS_URL).toBe(`redis://:${TEST_REDIS_PASSWORD}@redis:6379`);
    expect(manifestEnv.get("gateway")?.CANVAS_URL).toBe("http://canvas:3001");
    expect(manifestEnv.get("gateway")?.INSTANCE_ID).toBe("gateway-7d9f8b6c5-x2x4z");
  });

  it("every startup, liveness and readiness probe in the manifests passes", async () => {
    for (const name of SERVICES) {
      for (const kind of ["startupProbe", "livenessProbe", "readinessProbe"] as const) {
        if (container(name)[kind]) await waitProbe(name, kind, true);
      }
    }
  });

  it("/metrics on each Service's http port shows the metrics the alerts use", async () => {
    const rule = parseYamlStream(readFileSync(join(K8S_DIR, "components", "monitoring", "prometheus-rule.yaml"), "utf8"), "rule")[0] as K8sObject;
    const exprs = JSON.stringify(rule.spec);
    const used = [...new Set([...exprs.matchAll(/\b(pixel_[a-z0-9_]+)/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, "")))];
    const text = new Map<string, string>();
    for (const name of ["canvas", "gateway"]) {
      const res = await fetch(`http://127.0.0.1:${local(namedPort(container(name), "http"))}/metrics`);
      text.set(name, await res.text());
    }
    for (const metric of used) {
      const owner = metric.startsWith("pixel_canvas_") ? ["canvas"] : metric.startsWith("pixel_gateway_") ? ["gateway"] : ["canvas", "gateway"];
      for (const o of owner) expect(text.get(o), `${metric} on ${o}`).toMatch(new RegExp(`^# TYPE ${metric} `, "m"));
    }
    expect(text.get("canvas")).toMatch(/^pixel_redis_connected\{role="[a-z]+"\} 1$/m);
  });

  it("readiness fails and liveness holds while Redis is down, and both recover when it returns", async () => {
    await redis.kill9();
    await waitProbe("canvas", "readinessProbe", false);
    await waitProbe("gateway", "readinessProbe", false);
    for (const name of SERVICES) expect(await probe(container(name), container(name).livenessProbe as Probe), `${name} liveness`).toBe(true);
    expect(await probe(container("web"), container("web").readinessProbe as Probe)).toBe(true);
    await redis.restart();
    spawnSync("redis-cli", ["-p", String(redis.port), "CONFIG", "SET", "requirepass", TEST_REDIS_PASSWORD]);
    await waitProbe("canvas", "readinessProbe", true);
    await waitProbe("gateway", "readinessProbe", true);
  }, 60_000);
});
