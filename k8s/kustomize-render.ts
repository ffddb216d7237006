/**
 * Renders the kustomizations under k8s/ for the manifest tests with `kubectl kustomize`, and with a
 * small resolver for exactly the kustomize features this tree uses, which the tests compare with it.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

/** A Kubernetes object as parsed from YAML; fields are checked by the tests that read them. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
};

/** The k8s/ directory of this checkout. */
export const K8S_DIR = dirname(fileURLToPath(import.meta.url));

/** Kinds that live outside namespaces (the only ones this tree renders). */
const CLUSTER_SCOPED = new Set(["Namespace"]);

/** Parses every document of a YAML stream, failing on the first syntax error. */
export function parseYamlStream(text: string, source: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(value as K8sObject);
  }
  return out;
}

/** What to run when kubectl is missing; scripts/test.sh and .ci/run run it themselves. */
export const KUBECTL_INSTALL = "bash scripts/install-kubectl.sh";

/**
 * The kubectl to run: $KUBECTL when set, else the project-local one that scripts/install-kubectl.sh
 * puts in .tools/bin, else `kubectl` on PATH. Throws, naming the install command, when none runs,
 * so a machine without kubectl fails the manifest tests instead of quietly skipping them.
 */
export function kubectlPath(): string {
  const local = join(K8S_DIR, "..", ".tools", "bin", "kubectl");
  const path = process.env.KUBECTL ?? (existsSync(local) ? local : "kubectl");
  const probe = spawnSync(path, ["version", "--client"], { stdio: "ignore" });
  if (probe.status !== 0) {
    throw new Error(`kubectl is not installed (tried ${path}): the manifest tests need kubectl >= 1.27. Install it with: ${KUBECTL_INSTALL}`);
  }
  return path;
}

/** The password the test trees use in place of the operator's secret. */
export const TEST_REDIS_PASSWORD = "throwaway-test-password";
/** The session key ring the test trees use (a fixed, throwaway 32-byte key). */
export const TEST_SESSION_KEYS = `test:${Buffer.alloc(32, 7).toString("base64")}`;
/** The admin credentials the test trees use: `ops` with the SHA-256 of "throwaway-admin-token". */
export const TEST_ADMIN_TOKENS = "ops:ed95c26799a7162037c6de4ba96ebecd06eccbf8a085d5b92a0c27f2b2b7a174";
/** The placement log database's password the test trees use. */
export const TEST_HISTORY_DB_PASSWORD = "throwaway-history-db-password";

/**
 * Copies k8s/ to a temporary directory with throwaway secret files (Redis password, session keys,
 * admin credentials, history database password; the real ones are gitignored, created by the operator, and never copied), so
 * the kustomizations render in a fresh clone. Returns the copy's path and a function that deletes it.
 */
export function prepareRenderTree(options: { withPassword: boolean } = { withPassword: true }): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "pixel-k8s-"));
  const dir = join(root, "k8s");
  const secrets = join(K8S_DIR, "base", "secrets");
  cpSync(K8S_DIR, dir, { recursive: true, filter: (src) => !src.endsWith(".ts") && !(dirname(src) === secrets && src.endsWith(".env")) });
  if (options.withPassword) {
    writeFileSync(join(dir, "base", "secrets", "redis.env"), `password=${TEST_REDIS_PASSWORD}\n`);
    writeFileSync(join(dir, "base", "secrets", "sessions.env"), `SESSION_KEYS=${TEST_SESSION_KEYS}\n`);
    writeFileSync(join(dir, "base", "secrets", "admin.env"), `ADMIN_TOKENS=${TEST_ADMIN_TOKENS}\n`);
    writeFileSync(join(dir, "base", "secrets", "history-db.env"), `password=${TEST_HISTORY_DB_PASSWORD}\n`);
  }
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Renders one kustomization directory with `kubectl kustomize`. */
export function renderWithKubectl(dir: string): K8sObject[] {
  const result = spawnSync(kubectlPath(), ["kustomize", dir], { encoding: "utf8", maxBuffer: 32 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  const objects = parseYamlStream(result.stdout, dir);
  // kubectl wraps base64 Secret data longer than 76 characters in a literal block; the API server's
  // base64 decoder skips those line breaks, so drop them here as it would.
  for (const obj of objects) {
    const data = obj.kind === "Secret" ? (obj as { data?: Record<string, string> }).data : undefined;
    for (const key of Object.keys(data ?? {})) data![key] = data![key]!.replace(/\s+/g, "");
  }
  return objects;
}

/** Renders the way operators do, with `kubectl kustomize`; throws when kubectl is missing. */
export function render(dir: string): K8sObject[] {
  return renderWithKubectl(dir);
}

type Kustomization = {
  resources?: string[];
  components?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { target?: { kind: string; name: string }; patch: string }[];
  configMapGenerator?: { name: string; literals?: string[]; files?: string[] }[];
  secretGenerator?: { name: string; envs?: string[] }[];
};

type PatchOp = { op: "replace" | "add" | "remove" | "test"; path: string; value?: unknown };

const SUPPORTED_KEYS = new Set([
  "apiVersion", "kind", "resources", "components", "namespace", "images", "replicas", "patches",
  "configMapGenerator", "secretGenerator",
]);

/**
 * Resolves a kustomization without kubectl: resources, components (applied to the resources
 * gathered so far, as kustomize does), namespace, images, replicas, JSON6902 patches with a
 * kind/name target (add, remove, replace, test; `-` appends), `$patch: delete` patches, ConfigMaps
 * from literals or files and env-file Secrets. Generated names keep no hash suffix. Any other
 * kustomize field is an error, so the resolver never silently renders something different from kubectl.
 */
export function renderWithResolver(dir: string): K8sObject[] {
  return build(dir, []);
}

/** Builds the kustomization or component in `dir` on top of `inherited` (a component's parent). */
function build(dir: string, inherited: K8sObject[]): K8sObject[] {
  const file = join(dir, "kustomization.yaml");
  const [k] = parseYamlStream(readFileSync(file, "utf8"), file) as unknown as Kustomization[];
  if (!k) throw new Error(`${file} is empty`);
  for (const key of Object.keys(k)) {
    if (!SUPPORTED_KEYS.has(key)) throw new Error(`${file}: the test resolver does not support "${key}"`);
  }
  let objects: K8sObject[] = [...inherited];
  for (const entry of k.resources ?? []) {
    const path = resolve(dir, entry);
    objects.push(...(statSync(path).isDirectory() ? renderWithResolver(path) : parseYamlStream(readFileSync(path, "utf8"), path)));
  }
  for (const gen of k.configMapGenerator ?? []) {
    const literals = (gen.literals ?? []).map((l) => splitPair(l));
    const files = (gen.files ?? []).map((f): [string, string] => [basename(f), readFileSync(join(dir, f), "utf8")]);
    objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: gen.name }, data: Object.fromEntries([...literals, ...files]) });
  }
  for (const gen of k.secretGenerator ?? []) {
    const pairs = (gen.envs ?? []).flatMap((f) => readEnvFile(join(dir, f)));
    const data = Object.fromEntries(pairs.map(([key, v]) => [key, Buffer.from(v).toString("base64")]));
    objects.push({ apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: gen.name }, data });
  }
  for (const entry of k.components ?? []) objects = build(resolve(dir, entry), objects);
  return applyTransforms(k, objects, file);
}

function applyTransforms(k: Kustomization, input: K8sObject[], file: string): K8sObject[] {
  let objects = input;
  for (const p of k.patches ?? []) {
    const parsed: unknown = parseYamlStream(p.patch, file)[0];
    if (!Array.isArray(parsed)) {
      // A strategic-merge patch; the only form this tree uses deletes one object.
      const doc = parsed as K8sObject & { $patch?: string };
      if (doc.$patch !== "delete") throw new Error(`${file}: the test resolver supports only $patch: delete strategic-merge patches`);
      const remaining = objects.filter((o) => !(o.kind === doc.kind && o.metadata.name === doc.metadata.name));
      if (remaining.length === objects.length) throw new Error(`${file}: delete target ${doc.kind}/${doc.metadata.name} not found`);
      objects = remaining;
      continue;
    }
    if (!p.target) throw new Error(`${file}: a JSON6902 patch needs a target`);
    const { kind, name } = p.target;
    const target = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!target) throw new Error(`${file}: patch target ${kind}/${name} not found`);
    for (const op of parsed as PatchOp[]) applyOp(target, op);
  }
  for (const r of k.replicas ?? []) {
    const target = objects.find((o) => ["Deployment", "StatefulSet"].includes(o.kind) && o.metadata.name === r.name);
    if (!target) throw new Error(`${file}: replicas target ${r.name} not found`);
    (target.spec as Record<string, unknown>).replicas = r.count;
  }
  for (const o of objects) {
    if (k.namespace && !CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
    for (const c of containersOf(o)) {
      for (const img of k.images ?? []) {
        const [name, tag] = splitImage(c.image);
        if (name !== img.name) continue;
        const newTag = img.digest ? `@${img.digest}` : img.newTag ? `:${img.newTag}` : tag;
        c.image = `${img.newName ?? name}${newTag}`;
      }
    }
  }
  return objects;
}

/** Every container (and init container) of a workload's pod template. */
export function containersOf(o: K8sObject): { name: string; image: string; [key: string]: unknown }[] {
  const spec = (o.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template?.spec;
  if (!spec) return [];
  return [...((spec.containers as never[]) ?? []), ...((spec.initContainers as never[]) ?? [])];
}

/** Splits "name:tag" or "name@digest" into the name and the suffix including its separator. */
export function splitImage(image: string): [string, string] {
  const at = image.indexOf("@");
  if (at >= 0) return [image.slice(0, at), image.slice(at)];
  const colon = image.lastIndexOf(":");
  if (colon > image.lastIndexOf("/")) return [image.slice(0, colon), image.slice(colon)];
  return [image, ""];
}

function splitPair(line: string): [string, string] {
  const eq = line.indexOf("=");
  if (eq <= 0) throw new Error(`"${line}" is not KEY=VALUE`);
  return [line.slice(0, eq), line.slice(eq + 1)];
}

function readEnvFile(path: string): [string, string][] {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  return readFileSync(path, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map(splitPair);
}

/** Applies one JSON6902 operation (RFC 6902: add, remove, replace, test; `-` appends to an array). */
function applyOp(target: Record<string, unknown>, op: PatchOp): void {
  const parts = op.path.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  const last = parts.pop();
  if (last === undefined) throw new Error(`bad patch path ${op.path}`);
  let node: Record<string, unknown> | unknown[] = target;
  for (const part of parts) {
    const next: unknown = Array.isArray(node) ? node[Number(part)] : node[part];
    if (typeof next !== "object" || next === null) throw new Error(`patch path ${op.path} does not exist`);
    node = next as Record<string, unknown> | unknown[];
  }
  if (Array.isArray(node)) {
    const index = last === "-" ? node.length : Number(last);
    const exists = Number.isInteger(index) && index >= 0 && index < node.length;
    if (op.op !== "add" && !exists) throw new Error(`patch path ${op.path} does not exist`);
    if (op.op === "test" && JSON.stringify(node[index]) !== JSON.stringify(op.value)) throw new Error(`patch test failed at ${op.path}`);
    if (op.op === "remove") node.splice(index, 1);
    else if (op.op === "replace") node[index] = structuredClone(op.value);
    else if (op.op === "add") node.splice(index, 0, structuredClone(op.value));
    return;
  }
  if (op.op !== "add" && !(last in node)) throw new Error(`patch path ${op.path} does not exist`);
  if (op.op === "test") {
    if (JSON.stringify(node[last]) !== JSON.stringify(op.value)) throw new Error(`patch test failed at ${op.path}`);
  } else if (op.op === "remove") delete node[last];
  else node[last] = structuredClone(op.value);
}
