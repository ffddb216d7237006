import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { UsageError } from "./flags.js";
import type { PhaseResult } from "./phase.js";
import type { BenchResult } from "./report/bench-result.js";
import type { RunInfo } from "./run-info.js";

const tree = vi.hoisted(() => ({ dirty: false }));
vi.mock("./run-info.js", () => ({
  collectRunInfo: async (argv: string[]): Promise<RunInfo> => ({
    startedAt: new Date().toISOString(),
    command: `npm run bench -- ${argv.join(" ")}`,
    git: { commit: "0".repeat(40), dirty: tree.dirty },
    machine: { cores: 2, cpuModel: "test", memoryGiB: 1, kernel: "test", loadAverage: [0, 0, 0] },
    node: process.version,
  }),
}));
const { runCompare } = await import("./compare.js");

const out = mkdtempSync(join(tmpdir(), "pixel-compare-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A scenario runner that answers from a list of knee figures and records what it was asked. */
function fakeRunner(knees: Record<string, number[]>) {
  const calls: string[][] = [];
  const runScenario = async (argv: string[]): Promise<{ json: string; result: BenchResult }> => {
    calls.push(argv);
    const target = argv[argv.indexOf("--target") + 1]!;
    const knee = knees[target]!.shift()!;
    const phase = { name: `${knee} px/s`, sentPixelsPerSecond: knee, latency: { p99Ms: 1 }, cdf: [[1, 1]] } as unknown as PhaseResult;
    return { json: `${target}-${calls.length}.json`, result: { target, headline: { kneePixelsPerSecond: knee }, phases: [phase] } as unknown as BenchResult };
  };
  return { calls, runScenario };
}

describe("runCompare", () => {
  beforeEach(() => {
    tree.dirty = false;
  });

  it("refuses a dirty tree before running anything, unless --allow-dirty", async () => {
    tree.dirty = true;
    const refused = fakeRunner({ legacy: [], ours: [] });
    await expect(runCompare(["knee", "--rounds", "1", "--out", out], refused.runScenario, () => undefined)).rejects.toThrow(UsageError);
    expect(refused.calls).toEqual([]);
    const allowed = fakeRunner({ legacy: [400], ours: [4000] });
    const { result } = await runCompare(["knee", "--rounds", "1", "--allow-dirty", "--out", out], allowed.runScenario, () => undefined);
    expect(result.run.git.dirty).toBe(true);
    expect(allowed.calls.every((argv) => !argv.includes("--allow-dirty"))).toBe(true);
  });

  it("alternates which target goes first and reports medians, spreads and the ratio of the medians", async () => {
    const r = fakeRunner({ legacy: [400, 500, 450], ours: [4000, 6000, 4500] });
    const { result, md } = await runCompare(["knee", "--method", "outsider", "--rounds", "3", "--out", out], r.runScenario, () => undefined);
    expect(result.runs.map((x) => x.target)).toEqual(["legacy", "ours", "ours", "legacy", "legacy", "ours"]);
    expect(result.method).toBe("outsider");
    expect(result.medians).toEqual([{ figure: "kneePixelsPerSecond", ours: 4500, legacy: 450, oursSpread: [4000, 6000], legacySpread: [400, 500], advantage: 10, better: "higher" }]);
    expect(md).toMatch(/compare-knee-outsider-.*\.md$/);
    expect(readFileSync(md, "utf8")).toContain("| kneePixelsPerSecond (higher is better) | 450 (400–500) | 4500 (4000–6000) | 10× |");
  });

  it("compares ours against ours with techniques switched off when given --baseline-env, keeping any --server-env", async () => {
    const r = fakeRunner({ ours: [4000, 6000, 3000, 5000] });
    const { result, md } = await runCompare(["knee", "--rounds", "2", "--server-env", "CANVAS_WRITES=stream", "--baseline-env", "FRAME_BUDGET_MS=0,COALESCE_ACKS=0", "--out", out], r.runScenario, () => undefined);
    expect(result.baseline).toBe("ours with FRAME_BUDGET_MS=0,COALESCE_ACKS=0");
    // Every run is ours; the baseline's carry both the common and the baseline switches.
    expect(r.calls.map((argv) => argv[argv.indexOf("--target") + 1])).toEqual(["ours", "ours", "ours", "ours"]);
    const envOf = (argv: string[]) => argv[argv.indexOf("--server-env") + 1];
    expect(r.calls.map(envOf)).toEqual(["CANVAS_WRITES=stream,FRAME_BUDGET_MS=0,COALESCE_ACKS=0", "CANVAS_WRITES=stream", "CANVAS_WRITES=stream", "CANVAS_WRITES=stream,FRAME_BUDGET_MS=0,COALESCE_ACKS=0"]);
    expect(r.calls.every((argv) => !argv.includes("--baseline-env"))).toBe(true);
    // Baseline rounds: 4000 and 5000; ours: 6000 and 3000.
    expect(result.medians[0]).toMatchObject({ legacy: 4500, ours: 4500 });
    expect(md).toMatch(/compare-knee-outsider-techniques-.*\.md$/);
    expect(readFileSync(md, "utf8")).toContain("ours with FRAME_BUDGET_MS=0,COALESCE_ACKS=0 median (min–max)");
  });

  it("refuses a --baseline-env that is not NAME=VALUE pairs", async () => {
    const r = fakeRunner({ ours: [] });
    await expect(runCompare(["knee", "--baseline-env", "nonsense", "--out", out], r.runScenario, () => undefined)).rejects.toThrow(UsageError);
    expect(r.calls).toEqual([]);
  });
});
