import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PORTS } from "../services/shared/config.js";
import { LIVENESS_SERVICE } from "../services/canvas/health-routes.js";
import { SHUTDOWN_GRACE_MS } from "../services/shared/timing.js";
import { containersOf, K8S_DIR, type K8sObject, parseYamlStream, prepareRenderTree, render, splitImage, TEST_HISTORY_DB_PASSWORD } from "./kustomize-render.js";
import { selectorMatches } from "./network-policy-flows.js";
import { containerEnv } from "./pod-env.js";
import { container, find, findGenerated, namedPort, OVERLAYS, podTemplate, renderAll, servingWorkloads, workloads } from "./rendered-overlays.js";

type Probe = {
  httpGet?: { path: string; port: number | string };
  grpc?: { port: number; service?: string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  periodSeconds?: number;
  failureThreshold?: number;
};
type SecurityContext = {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
  privileged?: boolean;
};
type Resources = { requests?: Record<string, string>; limits?: Record<string, string> };
type EnvVar = { name: string; value?: string; valueFrom?: Record<string, { name?: string; key?: string; fieldPath?: string }> };

/** The archiver's default ARCHIVER_HTTP_PORT (services/history/main.ts, which exports nothing). */
const ARCHIVER_HTTP_PORT = 3004;

/** Which port each service's container must listen on, by port name, from the code's config. */
const EXPECTED_PORTS: Record<string, Record<string, number>> = {
  canvas: { grpc: DEFAULT_PORTS.canvasGrpc, http: DEFAULT_PORTS.canvasHttp },
  gateway: { http: DEFAULT_PORTS.gateway },
  web: { http: DEFAULT_PORTS.web },
  archiver: { http: ARCHIVER_HTTP_PORT },
  redis: { redis: 6379 },
  "history-db": { postgres: 5432 },
};
/** A Redis Cluster pod also listens on the cluster bus, its client port + 10000 (Redis' default). */
const CLUSTER_REDIS_PORTS = { redis: 6379, bus: 16379 };
/** The label k8s/components/redis-cluster puts on each shard's pods. */
const SHARD_LABEL = "pixel-playground/redis-shard";

/** The ports a workload's main container must name, by its app label (and shard label for Redis). */
function expectedPorts(w: K8sObject): Record<string, number> | undefined {
  const labels = podTemplate(w).metadata.labels;
  if (labels[SHARD_LABEL] !== undefined) return CLUSTER_REDIS_PORTS;
  return EXPECTED_PORTS[labels["app.kubernetes.io/name"] ?? ""];
}

/** Resolves a probe or Service target port (number or name) against a container. */
function resolvePort(c: Record<string, unknown>, port: number | string): number {
  return typeof port === "number" ? port : namedPort(c, port);
}

let rendered: Map<string, K8sObject[]>;
let cleanup: () => void;
beforeAll(() => {
  ({ rendered, cleanup } = renderAll());
});
afterAll(() => cleanup());

for (const overlay of OVERLAYS) {
  describe(`${overlay.target}`, () => {
    const objects = (): K8sObject[] => rendered.get(overlay.target) ?? [];

    it("every container has requests and limits and a pinned image, and every serving one liveness and readiness probes", () => {
      let n = 0;
      for (const w of workloads(objects())) {
        for (const c of containersOf(w)) {
          const where = `${w.metadata.name}/${c.name}`;
          // A Job's pod runs to completion: Kubernetes restarts it on failure (restartPolicy), and
          // nothing routes traffic to it.
          if (w.kind !== "Job") {
            expect(c.livenessProbe, where).toBeDefined();
            expect(c.readinessProbe, where).toBeDefined();
          }
          const r = c.resources as Resources | undefined;
          for (const kind of ["requests", "limits"] as const) {
            expect(r?.[kind]?.cpu, `${where} ${kind}.cpu`).toBeDefined();
            expect(r?.[kind]?.memory, `${where} ${kind}.memory`).toBeDefined();
          }
          const [, suffix] = splitImage(c.image);
          expect(suffix, `${where} image ${c.image} needs a tag or digest`).toMatch(/^(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/);
          expect(suffix, `${where} image ${c.image}`).not.toMatch(/^:(latest|main|master|stable|\d+|\d+\.\d+)$/);
          n++;
        }
      }
      expect(n).toBe(overlay.containers);
    });

    it("runs our one image, with the registry and tag the kustomizations set", () => {
      const chain = ["base", overlay.target.startsWith("overlays/prod") ? "overlays/prod" : overlay.target].filter((t, i, a) => a.indexOf(t) === i);
      let name = "pixel-playground";
      let tag = "";
      for (const t of chain) {
        const k = parseYamlStream(readFileSync(join(K8S_DIR, t, "kustomization.yaml"), "utf8"), t)[0] as { images?: { name: string; newName?: string; newTag?: string }[] };
        const entry = k.images?.find((i) => i.name === "pixel-playground");
        if (entry?.newName) name = entry.newName;
        if (entry?.newTag) tag = entry.newTag;
      }
      expect(tag).toMatch(/^\d+\.\d+\.\d+/);
      for (const d of objects().filter((o) => o.kind === "Deployment")) {
        expect(containersOf(d).map((c) => c.image), d.metadata.name).toEqual([`${name}:${tag}`]);
      }
    });

    it("every container runs non-root, read-only, without privilege escalation or capabilities, under RuntimeDefault seccomp", () => {
      for (const w of workloads(objects())) {
        const podSpec = podTemplate(w).spec;
        const podSc = (podSpec.securityContext ?? {}) as SecurityContext;
        for (const c of containersOf(w)) {
          const where = `${w.metadata.name}/${c.name}`;
          const sc = (c.securityContext ?? {}) as SecurityContext;
          expect(sc.runAsNonRoot ?? podSc.runAsNonRoot, where).toBe(true);
          const uid = sc.runAsUser ?? podSc.runAsUser;
          expect(Number.isInteger(uid) && (uid as number) > 0, `${where} numeric non-zero runAsUser`).toBe(true);
          expect(sc.readOnlyRootFilesystem, where).toBe(true);
          expect(sc.allowPrivilegeEscalation, where).toBe(false);
          expect(sc.privileged ?? false, where).toBe(false);
          expect(sc.capabilities?.drop, where).toEqual(["ALL"]);
          expect(sc.capabilities?.add ?? [], where).toEqual([]);
          expect((sc.seccompProfile ?? podSc.seccompProfile)?.type, where).toBe("RuntimeDefault");
          const mounts = (c.volumeMounts as { name: string; mountPath: string }[] | undefined) ?? [];
          const tmp = mounts.find((m) => m.mountPath === "/tmp");
          const volumes = (podSpec.volumes as { name: string; emptyDir?: unknown }[] | undefined) ?? [];
          expect(tmp && volumes.find((v) => v.name === tmp.name)?.emptyDir, `${where} writable /tmp (emptyDir)`).toBeDefined();
        }
      }
    });

    it("pods use their own ServiceAccount and mount no API token", () => {
      for (const w of workloads(objects())) {
        const spec = podTemplate(w).spec;
        expect(spec.automountServiceAccountToken, w.metadata.name).toBe(false);
        const sa = find(objects(), "ServiceAccount", spec.serviceAccountName as string);
        expect(sa.automountServiceAccountToken, sa.metadata.name).toBe(false);
      }
    });

    it("every container and Service port is named, and each service listens on the configured ports", () => {
      for (const w of workloads(objects())) {
        const name = w.metadata.labels?.["app.kubernetes.io/name"] ?? "";
        const c = container(w, name);
        const ports = ((c.ports as { name?: string; containerPort: number }[] | undefined) ?? []).map((p) => [p.name, p.containerPort]);
        // A Job listens on nothing.
        expect(Object.fromEntries(ports), w.metadata.name).toEqual(w.kind === "Job" ? {} : expectedPorts(w));
      }
      for (const s of objects().filter((o) => o.kind === "Service")) {
        for (const p of (s.spec as { ports: { name?: string }[] }).ports) expect(p.name, s.metadata.name).toMatch(/^[a-z][a-z0-9-]*$/);
      }
    });

    it("every Service selects the pods of one app and targets a port they all expose, at the configured number", () => {
      for (const s of objects().filter((o) => o.kind === "Service")) {
        const spec = s.spec as { selector?: Record<string, string>; ports: { name: string; port: number; targetPort: number | string }[] };
        expect(Object.keys(spec.selector ?? {}).length, s.metadata.name).toBeGreaterThan(0);
        const targets = servingWorkloads(objects()).filter((w) => selectorMatches({ matchLabels: spec.selector }, podTemplate(w).metadata.labels));
        expect(targets.length, `${s.metadata.name} selects no pods`).toBeGreaterThan(0);
        // Several workloads only as the shards of one Redis Cluster (one headless Service over all).
        const apps = new Set(targets.map((w) => w.metadata.labels?.["app.kubernetes.io/name"] ?? ""));
        expect([...apps], s.metadata.name).toHaveLength(1);
        if (targets.length > 1) for (const w of targets) expect(podTemplate(w).metadata.labels[SHARD_LABEL], w.metadata.name).toBeDefined();
        for (const w of targets) {
          const app = w.metadata.labels?.["app.kubernetes.io/name"] ?? "";
          for (const p of spec.ports) {
            const port = resolvePort(container(w, app), p.targetPort);
            expect(port, `${s.metadata.name}:${p.name}`).toBe(expectedPorts(w)?.[p.name]);
            expect(p.port, `${s.metadata.name}:${p.name} service port`).toBe(port);
          }
        }
      }
    });

    it("every workload's selector matches its own pod template", () => {
      for (const w of servingWorkloads(objects())) {
        const sel = (w.spec as { selector: { matchLabels: Record<string, string> } }).selector;
        expect(selectorMatches(sel, podTemplate(w).metadata.labels), w.metadata.name).toBe(true);
      }
    });

    it("probes hit the configured ports: native gRPC probes on canvas (liveness on a Redis-independent name), HTTP /healthz and /readyz elsewhere", () => {
      const canvas = container(find(objects(), "Deployment", "canvas"), "canvas");
      const canvasReady = canvas.readinessProbe as Probe;
      expect(canvasReady.grpc).toEqual({ port: DEFAULT_PORTS.canvasGrpc, service: "pixel.v1.CanvasService" });
      // Liveness must not depend on Redis: the "liveness" health name stays SERVING without it.
      for (const kind of ["livenessProbe", "startupProbe"]) {
        const probe = canvas[kind] as Probe;
        expect(probe.grpc, `canvas ${kind}`).toEqual({ port: DEFAULT_PORTS.canvasGrpc, service: LIVENESS_SERVICE });
      }
      for (const [name, port] of [["gateway", DEFAULT_PORTS.gateway], ["web", DEFAULT_PORTS.web], ["archiver", ARCHIVER_HTTP_PORT]] as const) {
        const c = container(find(objects(), "Deployment", name), name);
        const live = c.livenessProbe as Probe;
        const ready = c.readinessProbe as Probe;
        expect(live.httpGet?.path, name).toBe("/healthz");
        expect(ready.httpGet?.path, name).toBe("/readyz");
        expect(resolvePort(c, live.httpGet?.port ?? -1), name).toBe(port);
        expect(resolvePort(c, ready.httpGet?.port ?? -1), name).toBe(port);
      }
      for (const name of ["gateway", "archiver"]) expect((container(find(objects(), "Deployment", name), name).startupProbe as Probe).httpGet?.path, name).toBe("/healthz");
      const redisSets = objects().filter((o) => o.kind === "StatefulSet" && o.metadata.labels?.["app.kubernetes.io/name"] === "redis");
      expect(redisSets.length).toBe(overlay.redis === "single" ? 1 : 3);
      for (const sts of redisSets) {
        const redis = container(sts, "redis");
        expect(resolvePort(redis, (redis.livenessProbe as Probe).tcpSocket?.port ?? -1)).toBe(6379);
        const ready = (redis.readinessProbe as Probe).exec?.command.join(" ");
        // Single: PONG. Cluster: scripts/ready.sh (cluster state ok, a replica in sync; k8s/redis-cluster.test.ts).
        if (overlay.redis === "single") expect(ready).toMatch(/redis-cli -p 6379 ping\)" = PONG/);
        else expect(ready).toBe("sh /scripts/ready.sh");
      }
    });

    it("services get HOST, their ports, INSTANCE_ID from the pod name, and the upstream URLs", () => {
      const envOf = (name: string): Map<string, EnvVar> => {
        const c = container(find(objects(), "Deployment", name), name);
        return new Map(((c.env as EnvVar[]) ?? []).map((e) => [e.name, e]));
      };
      const portVars: Record<string, Record<string, number>> = {
        canvas: { CANVAS_GRPC_PORT: DEFAULT_PORTS.canvasGrpc, CANVAS_HTTP_PORT: DEFAULT_PORTS.canvasHttp },
        gateway: { GATEWAY_PORT: DEFAULT_PORTS.gateway },
        web: { WEB_PORT: DEFAULT_PORTS.web },
        archiver: { ARCHIVER_HTTP_PORT },
      };
      for (const [name, vars] of Object.entries(portVars)) {
        const env = envOf(name);
        expect(env.get("HOST")?.value, name).toBe("0.0.0.0");
        expect(env.get("INSTANCE_ID")?.valueFrom?.fieldRef?.fieldPath, name).toBe("metadata.name");
        for (const [v, port] of Object.entries(vars)) expect(env.get(v)?.value, `${name} ${v}`).toBe(String(port));
      }
      const canvasUrl = new URL(envOf("gateway").get("CANVAS_URL")?.value ?? "");
      expect(canvasUrl.protocol).toBe("http:");
      expect(canvasUrl.hostname).toBe("canvas");
      expect(Number(canvasUrl.port)).toBe(DEFAULT_PORTS.canvasGrpc);
      expect((find(objects(), "Service", "canvas").spec as { ports: { port: number }[] }).ports.map((p) => p.port)).toContain(DEFAULT_PORTS.canvasGrpc);
      expect(envOf("web").has("REDIS_URL")).toBe(false);
    });

    it(overlay.redis === "single"
      ? "canvas, gateway and archiver build REDIS_URL from the redis-auth Secret, defined before use"
      : "canvas, gateway and archiver get the redis-auth password and cluster mode (REDIS_CLUSTER_NODES), and no REDIS_URL", () => {
      const secret = findGenerated(objects(), "Secret", "redis-auth");
      expect(Object.keys((secret.data as Record<string, string>) ?? {})).toEqual(["password"]);
      for (const name of ["canvas", "gateway", "archiver"]) {
        const c = container(find(objects(), "Deployment", name), name);
        const env = (c.env as EnvVar[]) ?? [];
        const pwIndex = env.findIndex((e) => e.name === "REDIS_PASSWORD");
        const urlIndex = env.findIndex((e) => e.name === "REDIS_URL");
        expect(pwIndex, name).toBeGreaterThanOrEqual(0);
        expect(env[pwIndex]?.valueFrom?.secretKeyRef).toEqual({ name: secret.metadata.name, key: "password" });
        if (overlay.redis === "cluster") {
          // The seed list itself is checked against the shard pods in k8s/redis-cluster.test.ts.
          expect(urlIndex, `${name} must not also point at a single Redis`).toBe(-1);
          const refs = ((c.envFrom as { configMapRef?: { name: string } }[]) ?? []).map((r) => r.configMapRef?.name ?? "");
          const client = findGenerated(objects(), "ConfigMap", "redis-cluster-client");
          expect(refs, name).toContain(client.metadata.name);
          expect(Object.keys(client.data as Record<string, string>), name).toContain("REDIS_CLUSTER_NODES");
          continue;
        }
        const redisSvc = find(objects(), "Service", "redis");
        // Dependent variables only expand when the referenced variable comes earlier in the list.
        expect(urlIndex, name).toBeGreaterThan(pwIndex);
        expect(env[pwIndex]?.valueFrom?.secretKeyRef).toEqual({ name: secret.metadata.name, key: "password" });
        const url = env[urlIndex]?.value ?? "";
        expect(url, name).toBe(`redis://:$(REDIS_PASSWORD)@${redisSvc.metadata.name}:6379`);
        expect(url).not.toContain("throwaway");
      }
    });

    it("every referenced ConfigMap, Secret and key exists", () => {
      for (const w of workloads(objects())) {
        for (const c of containersOf(w)) {
          for (const ref of (c.envFrom as { configMapRef?: { name: string } }[] | undefined) ?? []) {
            if (ref.configMapRef) expect(find(objects(), "ConfigMap", ref.configMapRef.name)).toBeDefined();
          }
          for (const e of (c.env as EnvVar[] | undefined) ?? []) {
            for (const kind of ["secretKeyRef", "configMapKeyRef"] as const) {
              const ref = e.valueFrom?.[kind];
              if (!ref) continue;
              const obj = find(objects(), kind === "secretKeyRef" ? "Secret" : "ConfigMap", ref.name ?? "");
              expect(Object.keys((obj.data as Record<string, string>) ?? {}), `${w.metadata.name} ${e.name}`).toContain(ref.key);
            }
          }
        }
      }
    });

    it(`runs the promised replica counts (${JSON.stringify(overlay.replicas)}) with the gateway HPA floor equal to its replicas`, () => {
      for (const [name, count] of Object.entries(overlay.replicas)) {
        const w = workloads(objects()).find((x) => x.metadata.name === name);
        expect((w?.spec as { replicas?: number }).replicas, name).toBe(count);
      }
      const hpa = find(objects(), "HorizontalPodAutoscaler", "gateway").spec as {
        scaleTargetRef: { kind: string; name: string };
        minReplicas: number;
        maxReplicas: number;
      };
      expect(hpa.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "gateway" });
      expect(hpa.minReplicas).toBe(overlay.replicas.gateway);
      expect(hpa.maxReplicas).toBeGreaterThanOrEqual(hpa.minReplicas);
    });

    it("PodDisruptionBudgets cover gateway and canvas and never block a node drain", () => {
      const pdbs = objects().filter((o) => o.kind === "PodDisruptionBudget");
      const covered = new Set<string>();
      for (const pdb of pdbs) {
        const spec = pdb.spec as { selector: { matchLabels: Record<string, string> }; maxUnavailable?: number | string; minAvailable?: number | string };
        const targets = workloads(objects()).filter((w) => selectorMatches(spec.selector, podTemplate(w).metadata.labels));
        expect(targets.length, `${pdb.metadata.name} selects no workload`).toBe(1);
        const w = targets[0] as K8sObject;
        const replicas = (w.spec as { replicas: number }).replicas;
        covered.add(w.metadata.name);
        // Allowed disruptions with every pod healthy; a drain needs at least one.
        const pct = (v: number | string, roundUp: boolean): number =>
          typeof v === "number" ? v : (roundUp ? Math.ceil : Math.floor)((Number.parseInt(v, 10) / 100) * replicas);
        const allowed =
          spec.maxUnavailable !== undefined ? pct(spec.maxUnavailable, true) : replicas - pct(spec.minAvailable ?? replicas, true);
        expect(allowed, `${pdb.metadata.name} with ${replicas} replicas`).toBeGreaterThanOrEqual(1);
      }
      expect([...covered]).toEqual(expect.arrayContaining(["gateway", "canvas"]));
    });

    it("spreads each Deployment's pods across nodes and zones with selectors matching its own pods", () => {
      for (const w of objects().filter((o) => o.kind === "Deployment")) {
        const constraints = (podTemplate(w).spec.topologySpreadConstraints as { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[]) ?? [];
        expect(constraints.map((c) => c.topologyKey), w.metadata.name).toContain("kubernetes.io/hostname");
        for (const c of constraints) expect(selectorMatches(c.labelSelector, podTemplate(w).metadata.labels), w.metadata.name).toBe(true);
      }
    });

    it("gateway pods wait out endpoint removal in preStop and have time to drain their sockets", () => {
      const gw = find(objects(), "Deployment", "gateway");
      const c = container(gw, "gateway");
      const preStop = (c.lifecycle as { preStop?: { exec?: { command: string[] } } } | undefined)?.preStop?.exec?.command ?? [];
      expect(preStop[0]).toBe("sleep");
      const sleep = Number(preStop[1]);
      expect(sleep).toBeGreaterThanOrEqual(5);
      const grace = podTemplate(gw).spec.terminationGracePeriodSeconds as number;
      // The whole sequence must fit: preStop, then the service's own drain, with margin.
      expect(grace).toBeGreaterThanOrEqual(sleep + SHUTDOWN_GRACE_MS / 1000 + 10);
      expect((gw.spec as { strategy: { rollingUpdate: { maxUnavailable: number } } }).strategy.rollingUpdate.maxUnavailable).toBe(0);
    });

    // The cluster's shard StatefulSets get the same checks, and the cluster's own, in k8s/redis-cluster.test.ts.
    if (overlay.redis === "single") it("Redis is a StatefulSet on a 1Gi volume with AOF, a valid fsync policy and requirepass from the Secret", () => {
      const sts = find(objects(), "StatefulSet", "redis");
      const c = container(sts, "redis");
      expect(c.image).toMatch(/^redis:7\.\d+\.\d+(-[a-z0-9.]+)?(@sha256:[a-f0-9]{64})?$/);
      const args = (c.args as string[]).join(" ");
      expect(args).toContain("--appendonly yes");
      expect(args).toContain("--appendfsync $(REDIS_APPENDFSYNC)");
      expect(args).toContain("--requirepass $(REDIS_PASSWORD)");
      expect(args).toContain("--dir /data");
      const env = new Map(((c.env as EnvVar[]) ?? []).map((e) => [e.name, e]));
      const cmRef = env.get("REDIS_APPENDFSYNC")?.valueFrom?.configMapKeyRef;
      const cm = find(objects(), "ConfigMap", cmRef?.name ?? "");
      const policy = (cm.data as Record<string, string>)[cmRef?.key ?? ""];
      expect(["always", "everysec", "no"]).toContain(policy);
      if (overlay.target.includes("prod")) expect(policy).toBe("always");
      expect(env.get("REDIS_PASSWORD")?.valueFrom?.secretKeyRef?.name).toBe(findGenerated(objects(), "Secret", "redis-auth").metadata.name);
      const claims = (sts.spec as { volumeClaimTemplates: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }[] }).volumeClaimTemplates;
      expect(claims.map((t) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([["data", "1Gi"]]);
      expect((c.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.mountPath === "/data")?.name).toBe("data");
      expect((sts.spec as { serviceName: string }).serviceName).toBe("redis-headless");
      expect((find(objects(), "Service", "redis-headless").spec as { clusterIP: string }).clusterIP).toBe("None");
    });

    it(overlay.historyDb === "in-cluster"
      ? "canvas and archiver get HISTORY_DATABASE_URL for the history-db Service, with the password its PostgreSQL was given"
      : "canvas and archiver get HISTORY_DATABASE_URL for the managed database over TLS, and no history-db object is left", () => {
      const client = findGenerated(objects(), "ConfigMap", "history-db-client");
      const parts = client.data as Record<string, string>;
      const secret = findGenerated(objects(), "Secret", "history-db");
      expect(Object.keys((secret.data as Record<string, string>) ?? {})).toEqual(["password"]);
      const urls = new Set<string>();
      for (const name of ["canvas", "archiver"]) {
        const c = container(find(objects(), "Deployment", name), name);
        const env = (c.env as EnvVar[]) ?? [];
        expect(env.find((e) => e.name === "HISTORY_DB_PASSWORD")?.valueFrom?.secretKeyRef, name).toEqual({ name: secret.metadata.name, key: "password" });
        expect(env.find((e) => e.name === "HISTORY_DATABASE_URL")?.value, name).not.toContain("throwaway");
        // What the kubelet gives the process: every $(HISTORY_DB_*) defined before it and expanded.
        const url = containerEnv(objects(), c, `${name}-0`).HISTORY_DATABASE_URL ?? "";
        expect(url, name).not.toContain("$(");
        urls.add(url);
      }
      expect([...urls]).toHaveLength(1);
      const url = new URL([...urls][0] as string);
      expect(url.protocol).toBe("postgres:");
      expect([url.username, decodeURIComponent(url.password), url.hostname, url.port, url.pathname]).toEqual([
        parts.HISTORY_DB_USER, TEST_HISTORY_DB_PASSWORD, parts.HISTORY_DB_HOST, parts.HISTORY_DB_PORT, `/${parts.HISTORY_DB_NAME}`,
      ]);
      const historyObjects = objects().filter((o) => o.metadata.labels?.["app.kubernetes.io/name"] === "history-db").map((o) => `${o.kind}/${o.metadata.name}`);
      if (overlay.historyDb === "external") {
        expect(url.searchParams.get("sslmode")).toBe("require");
        expect(objects().filter((o) => o.kind === "Service").map((s) => s.metadata.name)).not.toContain(url.hostname);
        expect(historyObjects).toEqual(["NetworkPolicy/history-db-external"]);
        return;
      }
      expect(url.searchParams.get("sslmode")).toBe("disable");
      const svc = find(objects(), "Service", url.hostname);
      expect((svc.spec as { ports: { port: number }[] }).ports.map((p) => p.port)).toEqual([Number(url.port)]);
      // The server creates its user and database from the same ConfigMap keys and the same password.
      const db = container(find(objects(), "StatefulSet", "history-db"), "history-db");
      const dbEnv = containerEnv(objects(), db, "history-db-0");
      expect([dbEnv.POSTGRES_USER, dbEnv.POSTGRES_DB, dbEnv.POSTGRES_PASSWORD]).toEqual([url.username, url.pathname.slice(1), TEST_HISTORY_DB_PASSWORD]);
    });

    if (overlay.historyDb === "in-cluster") it("history-db is a pinned PostgreSQL StatefulSet on a volume, probed with pg_isready, stopped with a fast shutdown", () => {
      const sts = find(objects(), "StatefulSet", "history-db");
      expect((sts.spec as { replicas: number }).replicas).toBe(1);
      const c = container(sts, "history-db");
      expect(c.image).toMatch(/^postgres:1[56]\.\d+-bookworm(@sha256:[a-f0-9]{64})?$/);
      const claims = (sts.spec as { volumeClaimTemplates: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }[] }).volumeClaimTemplates;
      expect(claims.map((t) => t.metadata.name)).toEqual(["data"]);
      const dataMount = (c.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.name === "data")?.mountPath ?? "";
      const env = containerEnv(objects(), c, "history-db-0");
      // initdb needs a subdirectory of the volume (a fresh volume's root may hold lost+found).
      expect(env.PGDATA?.startsWith(`${dataMount}/`), `PGDATA ${env.PGDATA} under ${dataMount}`).toBe(true);
      // The socket directory must be writable under a read-only root file system.
      expect((c.volumeMounts as { mountPath: string }[]).map((m) => m.mountPath)).toContain("/var/run/postgresql");
      for (const kind of ["startupProbe", "readinessProbe"] as const) expect((c[kind] as Probe).exec?.command.join(" "), kind).toMatch(/pg_isready -h 127\.0\.0\.1 -p 5432 /);
      expect(resolvePort(c, (c.livenessProbe as Probe).tcpSocket?.port ?? -1)).toBe(5432);
      const preStop = (c.lifecycle as { preStop?: { exec?: { command: string[] } } }).preStop?.exec?.command.join(" ") ?? "";
      const wait = Number(/-t (\d+)/.exec(preStop)?.[1]);
      expect(preStop).toMatch(/pg_ctl stop -D "\$PGDATA" -m fast -w/);
      expect(podTemplate(sts).spec.terminationGracePeriodSeconds as number).toBeGreaterThan(wait);
      expect((sts.spec as { serviceName: string }).serviceName).toBe("history-db-headless");
      expect((find(objects(), "Service", "history-db-headless").spec as { clusterIP: string }).clusterIP).toBe("None");
    });

    it("the archiver runs one replica on our image (two would be safe: its inserts are idempotent)", () => {
      const archiver = find(objects(), "Deployment", "archiver");
      expect((archiver.spec as { replicas: number }).replicas).toBe(1);
      expect(objects().filter((o) => o.kind === "HorizontalPodAutoscaler").map((h) => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name)).not.toContain("archiver");
    });

    it("the Ingress routes / to web, /api to canvas's HTTP/1.1 port and /ws to the gateway, with long WebSocket timeouts", () => {
      const routes = new Map<string, { service: string; port: number; ingress: K8sObject }>();
      for (const ing of objects().filter((o) => o.kind === "Ingress")) {
        const spec = ing.spec as { ingressClassName: string; rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[] };
        expect(spec.ingressClassName).toBe("nginx");
        for (const rule of spec.rules) {
          for (const p of rule.http.paths) {
            expect(p.pathType).toBe("Prefix");
            const svc = find(objects(), "Service", p.backend.service.name);
            const svcPort = (svc.spec as { ports: { name: string; port: number }[] }).ports.find(
              (sp) => sp.name === p.backend.service.port.name || sp.port === p.backend.service.port.number,
            );
            expect(svcPort, `${p.path} backend port`).toBeDefined();
            routes.set(p.path, { service: svc.metadata.name, port: svcPort?.port ?? -1, ingress: ing });
          }
        }
      }
      expect([...routes.keys()].sort()).toEqual(["/", "/api", "/ws"]);
      expect(routes.get("/")).toMatchObject({ service: "web", port: DEFAULT_PORTS.web });
      expect(routes.get("/api")).toMatchObject({ service: "canvas", port: DEFAULT_PORTS.canvasHttp });
      expect(routes.get("/ws")).toMatchObject({ service: "gateway", port: DEFAULT_PORTS.gateway });
      const wsAnnotations = ((routes.get("/ws")?.ingress.metadata.annotations ?? {}) as Record<string, string>);
      expect(Number(wsAnnotations["nginx.ingress.kubernetes.io/proxy-read-timeout"])).toBeGreaterThanOrEqual(3600);
      expect(Number(wsAnnotations["nginx.ingress.kubernetes.io/proxy-send-timeout"])).toBeGreaterThanOrEqual(3600);
      // No rewrite: the canvas service serves /api itself.
      const apiAnnotations = (routes.get("/api")?.ingress.metadata.annotations ?? {}) as Record<string, string>;
      expect(Object.keys(apiAnnotations).some((k) => k.includes("rewrite-target"))).toBe(false);
    });

    if (overlay.namespace) {
      it(`puts everything in namespace ${overlay.namespace}, which enforces the restricted Pod Security Standard`, () => {
        for (const o of objects()) {
          if (o.kind === "Namespace") continue;
          expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(overlay.namespace);
        }
        const ns = find(objects(), "Namespace", overlay.namespace ?? "");
        expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
      });
    }
  });
}

describe("image overrides", () => {
  it("a tag set in the prod overlay reaches every Deployment (the base must not rename the image first)", () => {
    const tree = prepareRenderTree();
    try {
      const file = join(tree.dir, "overlays", "prod", "kustomization.yaml");
      const original = readFileSync(file, "utf8");
      const changed = original.replace(/newTag: "[^"]+"/, 'newTag: "9.9.9-override"');
      expect(changed).not.toBe(original);
      writeFileSync(file, changed);
      const images = render(join(tree.dir, "overlays", "prod"))
        .filter((o) => o.kind === "Deployment")
        .flatMap((d) => containersOf(d).map((c) => c.image));
      expect(images).toHaveLength(4);
      for (const image of images) expect(image).toMatch(/:9\.9\.9-override$/);
    } finally {
      tree.cleanup();
    }
  });
});
