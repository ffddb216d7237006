import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containersOf, K8S_DIR, type K8sObject } from "./kustomize-render.js";
import { OVERLAYS, renderAll } from "./rendered-overlays.js";

const ROOT = join(K8S_DIR, "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

type Instruction = { op: string; args: string };
type Stage = { from: string; name: string | undefined; instructions: Instruction[] };

/** Splits a Dockerfile into stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op = "", ...rest] = line.split(/\s+/);
    const instruction = { op: op.toUpperCase(), args: rest.join(" ") };
    if (instruction.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!m) throw new Error(`cannot parse ${line}`);
      const from = (m[1] ?? "").replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? "");
      stages.push({ from, name: m[2], instructions: [] });
    } else if (stages.length === 0 && instruction.op === "ARG") {
      const [name = "", value = ""] = instruction.args.split("=", 2);
      args.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The argv a package.json script runs ("node dist/..." split on spaces). */
function scriptArgv(name: string): string[] {
  const script = pkg.scripts[name];
  if (!script) throw new Error(`package.json has no script ${name}`);
  return script.split(/\s+/);
}

describe("Dockerfile", () => {
  const { stages } = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  const final = stages.at(-1) as Stage;

  it("builds from a Node 20 LTS image pinned to an exact version in every stage", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toMatch(/^node:20\.\d+\.\d+-[a-z0-9-]+(@sha256:[a-f0-9]{64})?$/);
  });

  it("builds with npm ci and npm run build, and installs only production dependencies for the runtime", () => {
    const build = stages.find((s) => s.instructions.some((i) => i.op === "RUN" && i.args.includes("npm run build")));
    expect(build?.instructions.some((i) => i.op === "RUN" && /^npm ci\b/.test(i.args) && !i.args.includes("--omit=dev"))).toBe(true);
    const deps = stages.find((s) => s.instructions.some((i) => i.op === "RUN" && /npm ci .*--omit=dev/.test(i.args)));
    expect(deps).toBeDefined();
    const copies = final.instructions.filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copies.some((c) => c.includes(`--from=${deps?.name}`) && c.includes("/app/node_modules"))).toBe(true);
  });

  it("copies only node_modules, package files, dist/ and web/dist into the final stage, and runs no build there", () => {
    const sources = final.instructions
      .filter((i) => i.op === "COPY")
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith("--")).slice(0, -1));
    expect(sources.sort()).toEqual(["/app/dist", "/app/node_modules", "/app/package-lock.json", "/app/package.json", "/app/web/dist"].sort());
    for (const i of final.instructions.filter((x) => x.op === "RUN")) {
      expect(i.args).not.toMatch(/\b(npm ci|npm install|npm run|apt-get install|tsc|vite)\b/);
    }
    // npm and npx are package-management tools, not runtime: the final stage removes them.
    expect(final.instructions.some((i) => i.op === "RUN" && i.args.includes("/usr/local/bin/npm"))).toBe(true);
  });

  it("runs as a numeric non-root user", () => {
    const user = final.instructions.filter((i) => i.op === "USER").at(-1)?.args ?? "";
    const [uid] = user.split(":");
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
  });

  it("defaults to a command equal to the package.json start:web script, in exec form", () => {
    const cmd = final.instructions.filter((i) => i.op === "CMD").at(-1)?.args ?? "";
    expect(JSON.parse(cmd)).toEqual(scriptArgv("start:web"));
    expect(final.instructions.some((i) => i.op === "ENTRYPOINT")).toBe(false);
  });
});

describe(".dockerignore", () => {
  it("keeps dependencies, build output, git metadata and secrets out of the build context", () => {
    const lines = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim());
    for (const entry of ["**/node_modules", "dist", "web/dist", ".git", "**/secrets", "**/*.env"]) expect(lines).toContain(entry);
  });
});

describe("Kubernetes commands", () => {
  let rendered: Map<string, K8sObject[]>;
  let cleanup: () => void;
  beforeAll(() => {
    ({ rendered, cleanup } = renderAll());
  });
  afterAll(() => cleanup());

  it("each service's container command equals its package.json start script, in every overlay", () => {
    for (const overlay of OVERLAYS) {
      const deployments = (rendered.get(overlay.target) ?? []).filter((o) => o.kind === "Deployment");
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual(["archiver", "canvas", "gateway", "web"]);
      for (const d of deployments) {
        const [c] = containersOf(d);
        const argv = [...((c?.command as string[]) ?? []), ...((c?.args as string[]) ?? [])];
        expect(argv, `${overlay.target} ${d.metadata.name}`).toEqual(scriptArgv(`start:${d.metadata.name}`));
      }
    }
  });
});
