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
});
