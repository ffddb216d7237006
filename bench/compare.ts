import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseFlags, UsageError } from "./flags.js";
import type { BenchResult } from "./report/bench-result.js";
import { renderCdfSvg, type CdfSeries } from "./report/cdf-svg.js";
import { round } from "./proc-stats.js";
import { collectRunInfo, type RunInfo } from "./run-info.js";

/** Headline figures compared between targets, and which direction is better. */
const COMPARED: Record<string, Array<{ key: string; better: "lower" | "higher" }>> = {
  "seed-stress": [{ key: "p50Ms", better: "lower" }, { key: "p99Ms", better: "lower" }, { key: "p999Ms", better: "lower" }, { key: "pixelsLost", better: "lower" }],
  fanout: [{ key: "p50Ms", better: "lower" }, { key: "p99Ms", better: "lower" }, { key: "pixelsLost", better: "lower" }, { key: "framesPerSecond", better: "lower" }],
  connections: [{ key: "rssPerConnectionKiB", better: "lower" }, { key: "secondsToConnectAll", better: "lower" }],
  knee: [{ key: "kneePixelsPerSecond", better: "higher" }],
};

/** The scenarios compare knows, in the order the performance table lists them. */
export const COMPARED_SCENARIOS = Object.keys(COMPARED);

/** A side-by-side run: both targets, alternating, `rounds` times, in one session. */
export interface CompareResult {
  scenario: string;
  /** outsider or scanner (bench/README.md, "Two methods"). */
  method: string;
  run: RunInfo;
  rounds: number;
  /**
   * What the baseline side was: "legacy" (the old design), or "ours with NAME=VALUE,..." when
   * `--baseline-env` compared ours against itself with techniques switched off. The `legacy`
   * figures below are that side's.
   */
  baseline: string;
  /** Result files of every run, in the order they ran. */
  runs: Array<{ target: string; round: number; json: string; headline: BenchResult["headline"] }>;
  /** Per compared figure: the median and spread (min, max over rounds) of each target, and legacy/ours (or ours/legacy for higher-is-better) of the medians. */
  medians: Array<{ figure: string; ours: number; legacy: number; oursSpread: [number, number]; legacySpread: [number, number]; advantage: number | null; better: string }>;
}

/** Removes compare's own flags from a scenario command line. */
function takeFlag(argv: string[], name: string, hasValue: boolean): { value: string | undefined; rest: string[] } {
  const at = argv.indexOf(`--${name}`);
  if (at < 0) return { value: undefined, rest: argv };
  return { value: hasValue ? argv[at + 1] : "true", rest: [...argv.slice(0, at), ...argv.slice(at + (hasValue ? 2 : 1))] };
}

/** The method a scenario command line asks for (outsider unless --method says otherwise). */
function methodOf(argv: string[]): string {
  const at = argv.indexOf("--method");
  return at >= 0 ? argv[at + 1] ?? "" : "outsider";
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * `npm run bench -- compare <scenario> [--rounds N] [--baseline-env NAME=VALUE,...] [scenario flags]`:
 * runs the scenario against legacy and ours alternately, so both see the same machine conditions,
 * and reports medians and the ratio (how many times better ours is) with an overlaid latency
 * chart. With `--baseline-env` the baseline is ours with those server variables added (the off
 * switches of techniques, e.g. FRAME_BUDGET_MS=0,COALESCE_ACKS=0), so one build measures a
 * technique before and after.
 */
export async function runCompare(argv: string[], runScenario: (argv: string[]) => Promise<{ json: string; result: BenchResult }>, log: (m: string) => void): Promise<{ result: CompareResult; json: string; md: string }> {
  const [scenario, ...rest] = argv;
  if (!scenario || !(scenario in COMPARED)) throw new UsageError(`compare needs a scenario: ${COMPARED_SCENARIOS.join(", ")}`);
  const roundsFlag = takeFlag(rest, "rounds", true);
  const dirtyFlag = takeFlag(roundsFlag.rest, "allow-dirty", false);
  const baselineFlag = takeFlag(dirtyFlag.rest, "baseline-env", true);
  const flags = baselineFlag.rest;
  if (baselineFlag.value !== undefined && !/^[A-Z_][A-Z0-9_]*=[^,]*(,[A-Z_][A-Z0-9_]*=[^,]*)*$/.test(baselineFlag.value)) {
    throw new UsageError(`--baseline-env needs NAME=VALUE[,NAME=VALUE], got "${baselineFlag.value}"`);
  }
  const baseline = baselineFlag.value === undefined ? "legacy" : `ours with ${baselineFlag.value}`;
  // The baseline side's command line: legacy, or ours with the technique switches added to any --server-env.
  const baselineArgv = (): string[] => {
    if (baselineFlag.value === undefined) return [...flags, "--target", "legacy"];
    const envAt = flags.indexOf("--server-env");
    const common = envAt >= 0 ? [...flags.slice(0, envAt), ...flags.slice(envAt + 2)] : flags;
    const env = envAt >= 0 && flags[envAt + 1] ? `${flags[envAt + 1]},${baselineFlag.value}` : baselineFlag.value;
    return [...common, "--server-env", env, "--target", "ours"];
  };
  const { rounds } = parseFlags(roundsFlag.value === undefined ? [] : ["--rounds", roundsFlag.value], { rounds: 3 });
  const outAt = flags.indexOf("--out");
  const out = outAt >= 0 ? flags[outAt + 1]! : "bench/results";
  const run = await collectRunInfo(["compare", ...argv]);
  // A quoted figure must be reproducible from the commit it names: refuse before spending the time.
  if (run.git.dirty && dirtyFlag.value === undefined) {
    throw new UsageError(`the working tree has uncommitted changes, so no commit would reproduce these figures: commit first, or pass --allow-dirty for a run nobody quotes`);
  }
  const runs: CompareResult["runs"] = [];
  const results: BenchResult[] = [];
  for (let r = 1; r <= rounds; r++) {
    // Alternate which target goes first, so neither always runs on the machine the other just warmed.
    // "legacy" labels the baseline side, whichever it is (see CompareResult.baseline).
    for (const target of r % 2 === 1 ? ["legacy", "ours"] : ["ours", "legacy"]) {
      log(`compare ${scenario}: round ${r}/${rounds}, ${target === "legacy" ? baseline : "ours"}`);
      const { json, result } = await runScenario([scenario, ...(target === "legacy" ? baselineArgv() : [...flags, "--target", target])]);
      runs.push({ target, round: r, json, headline: result.headline });
      results.push(result);
    }
  }
  const medians: CompareResult["medians"] = [];
  for (const { key, better } of COMPARED[scenario]!) {
    const values = (t: string) => runs.filter((x) => x.target === t).map((x) => Number(x.headline[key]));
    const spread = (t: string): [number, number] => [round(Math.min(...values(t)), 3), round(Math.max(...values(t)), 3)];
    const ours = median(values("ours"));
    const legacy = median(values("legacy"));
    const advantage = better === "lower" ? (ours > 0 ? legacy / ours : null) : legacy > 0 ? ours / legacy : null;
    medians.push({ figure: key, ours: round(ours, 3), legacy: round(legacy, 3), oursSpread: spread("ours"), legacySpread: spread("legacy"), advantage: advantage === null ? null : round(advantage, 2), better });
  }
  const method = methodOf(flags);
  const result: CompareResult = { scenario, method, run, rounds, baseline, runs, medians };
  mkdirSync(out, { recursive: true });
  const base = join(out, `compare-${scenario}-${method}${baselineFlag.value === undefined ? "" : "-techniques"}-${run.startedAt.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
  const series: CdfSeries[] = results.map((res, i) => {
    // The knee's most telling curve is its highest step that held; other scenarios have one phase.
    const phase = res.phases.find((p) => p.sentPixelsPerSecond === res.headline.kneePixelsPerSecond) ?? res.phases.at(-1)!;
    const side = runs[i]!.target === "legacy" ? (baselineFlag.value === undefined ? "legacy" : "baseline") : "ours";
    return { label: `${side} r${runs[i]!.round} ${phase.name} p99 ${phase.latency.p99Ms}`, points: phase.cdf };
  });
  const svgName = `${base.split("/").at(-1)}.svg`;
  writeFileSync(`${base}.svg`, renderCdfSvg(`${scenario}: ${baseline} vs ours, ${method} method, ${rounds} round(s)`, series));
  const lines = [
    `# compare ${scenario}: ${baseline} vs ours (${method} method)`, "",
    `- command: \`${run.command}\``,
    `- started: ${run.startedAt}; git ${run.git.commit.slice(0, 12)}${run.git.dirty ? " (dirty)" : ""}; Node ${run.node}; ${run.machine.cores} cores; load average at start ${run.machine.loadAverage.join(", ")}`,
    `- ${rounds} round(s), targets alternating (${baseline} first in odd rounds, ours first in even ones) so both share the machine's conditions`, "",
    `| figure | ${baseline} median (min–max) | ours median (min–max) | ours better by |`, "|---|---|---|---|",
    ...medians.map((m) => `| ${m.figure} (${m.better} is better) | ${m.legacy} (${m.legacySpread.join("–")}) | ${m.ours} (${m.oursSpread.join("–")}) | ${m.advantage === null ? "–" : `${m.advantage}×`} |`),
    "", `![latency CDFs](${svgName})`, "", "## Runs", "",
    "| round | target | " + COMPARED[scenario]!.map((c) => c.key).join(" | ") + " | result |",
    "|---|---|" + COMPARED[scenario]!.map(() => "---").join("|") + "|---|",
    ...runs.map((x) => `| ${x.round} | ${x.target === "legacy" ? baseline : x.target} | ${COMPARED[scenario]!.map((c) => String(x.headline[c.key])).join(" | ")} | ${x.json.split("/").at(-1)} |`),
    "",
  ];
  writeFileSync(`${base}.md`, lines.join("\n"));
  log(`wrote ${base}.md`);
  return { result, json: `${base}.json`, md: `${base}.md` };
}
