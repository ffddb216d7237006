import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  K8S_DIR,
  type K8sObject,
  parseYamlStream,
  prepareRenderTree,
  renderWithKubectl,
  renderWithResolver,
} from "./kustomize-render.js";
import { OVERLAYS } from "./rendered-overlays.js";
import { validateObject } from "./schema-validate.js";

/** Every kustomization the repository ships; each must render. */
const TARGETS = OVERLAYS.map((o) => o.target);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(e.name) ? [path] : [];
  });
}

/** Generated names carry a content hash from kubectl; the resolver leaves it off. */
function withoutHash(objects: K8sObject[], generated: string[]): unknown[] {
  const text = JSON.stringify(objects).replace(new RegExp(`"(${generated.join("|")})-[a-z0-9]{10}"`, "g"), '"$1"');
  const parsed = JSON.parse(text) as K8sObject[];
  return parsed.sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}

describe("YAML under k8s/", () => {
  const files = yamlFiles(K8S_DIR);

  it("has the base, the overlays and the monitoring, Redis Cluster and external history database components", () => {
    const names = files.map((f) => relative(K8S_DIR, f));
    for (const t of TARGETS) expect(names).toContain(join(t, "kustomization.yaml"));
    expect(names).toContain("components/monitoring/kustomization.yaml");
    expect(names).toContain("components/redis-cluster/kustomization.yaml");
    expect(names).toContain("components/external-history-db/kustomization.yaml");
  });

  it("every file parses, and every resource file validates against its schema", () => {
    let checked = 0;
    for (const file of files) {
      const docs = parseYamlStream(readFileSync(file, "utf8"), file);
      expect(docs.length, file).toBeGreaterThan(0);
      for (const doc of docs) {
        if (doc.kind === "Kustomization" || doc.kind === "Component") {
          expect(doc.apiVersion, file).toMatch(/^kustomize\.config\.k8s\.io\/v1(alpha1|beta1)$/);
          continue;
        }
        validateObject(doc);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("the schema validation rejects a malformed object (the check is real)", () => {
    const bad: K8sObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "bad" },
      spec: { selector: {}, template: { spec: { containers: [{ name: "x", ports: [{ containerPort: "http" }] }] } } },
    };
    expect(() => validateObject(bad)).toThrow(/containerPort/);
    expect(() => validateObject({ apiVersion: "v1", kind: "PodTemplate", metadata: { name: "p" } })).toThrow(/no schema/);
  });
});

describe("k8s/tools/redis-restore-pod.yaml", () => {
  it("meets the same restricted security policy as the workloads and mounts the StatefulSet's volume", () => {
    const [pod] = parseYamlStream(readFileSync(join(K8S_DIR, "tools", "redis-restore-pod.yaml"), "utf8"), "restore pod");
    const spec = pod?.spec as { automountServiceAccountToken: boolean; containers: Record<string, unknown>[]; volumes: { persistentVolumeClaim?: { claimName: string } }[] };
    expect(spec.automountServiceAccountToken).toBe(false);
    for (const c of spec.containers) {
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(c.resources).toMatchObject({ requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { cpu: expect.any(String), memory: expect.any(String) } });
    }
    const redis = parseYamlStream(readFileSync(join(K8S_DIR, "base", "redis.yaml"), "utf8"), "redis").find((o) => o.kind === "StatefulSet");
    const image = (redis?.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image;
    expect(spec.containers[0]?.image).toBe(image);
    expect(spec.volumes.map((v) => v.persistentVolumeClaim?.claimName).filter(Boolean)).toEqual(["data-redis-0"]);
  });
});

describe("kustomize renders", () => {
  let tree: { dir: string; cleanup: () => void };
  beforeAll(() => {
    tree = prepareRenderTree();
  });
  afterAll(() => tree.cleanup());

  for (const target of TARGETS) {
    it(`${target} renders with the test resolver and every object validates`, () => {
      const objects = renderWithResolver(join(tree.dir, target));
      expect(objects.length).toBeGreaterThan(15);
      for (const o of objects) validateObject(o);
    });
  }

  // Always registered: without kubectl these fail, naming scripts/install-kubectl.sh.
  for (const target of TARGETS) {
    it(`${target} renders with kubectl kustomize, validates, and equals the resolver's output`, () => {
      const objects = renderWithKubectl(join(tree.dir, target));
      for (const o of objects) validateObject(o);
      const generated = ["pixel-config", "redis-config", "redis-auth", "pixel-sessions", "pixel-admin", "redis-cluster-client", "redis-cluster-scripts", "history-db-client", "history-db"];
      expect(withoutHash(objects, generated)).toEqual(withoutHash(renderWithResolver(join(tree.dir, target)), generated));
    });
  }

  it("fails, naming the install command, when kubectl is missing (never skips)", () => {
    const saved = process.env.KUBECTL;
    process.env.KUBECTL = join(tree.dir, "no-such-kubectl");
    try {
      expect(() => renderWithKubectl(join(tree.dir, "base"))).toThrow(/kubectl is not installed.*Install it with: bash scripts\/install-kubectl\.sh/);
    } finally {
      if (saved === undefined) delete process.env.KUBECTL;
      else process.env.KUBECTL = saved;
    }
  });

  it("fails to render without the operator's Redis password file, naming it", () => {
    const bare = prepareRenderTree({ withPassword: false });
    try {
      const dev = join(bare.dir, "overlays", "dev");
      expect(() => renderWithResolver(dev)).toThrow(/redis\.env/);
      expect(() => renderWithKubectl(dev)).toThrow(/redis\.env/);
    } finally {
      bare.cleanup();
    }
  });

  it("never commits the secret files (Redis password, session keys, admin credentials, history database password), ignores them in git, and ships an example of each", () => {
    const files: [string, RegExp][] = [
      ["redis.env", /^password=\S+$/m],
      ["sessions.env", /^SESSION_KEYS=\S+:\S+$/m],
      ["admin.env", /^ADMIN_TOKENS=\S+:\S+$/m],
      ["history-db.env", /^password=[0-9a-z-]+$/m],
    ];
    for (const [file, format] of files) {
      const committed = spawnSync("git", ["ls-files", "--error-unmatch", `k8s/base/secrets/${file}`], { cwd: join(K8S_DIR, "..") });
      expect(committed.status, file).not.toBe(0);
      const ignored = spawnSync("git", ["check-ignore", "-q", `k8s/base/secrets/${file}`], { cwd: join(K8S_DIR, "..") });
      expect(ignored.status, file).toBe(0);
      expect(readFileSync(join(K8S_DIR, "base", "secrets", `${file}.example`), "utf8")).toMatch(format);
    }
  });
});
