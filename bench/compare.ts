import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseFlags } from "./flags.js";
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

/** A side-by-side run: both targets, alternating, `rounds` times, in one session. */
export interface CompareResult {
  scenario: string;
  run: RunInfo;
  rounds: number;
  /** Result files of every run, in the order they ran. */
  runs: Array<{ target: string; round: number; json: string; headline: BenchResult["headline"] }>;
  /** Per compared figure: the median of each target and legacy/ours (or ours/legacy for higher-is-better). */
  medians: Array<{ figure: string; ours: number; legacy: number; advantage: number | null; better: string }>;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * `npm run bench -- compare <scenario> [--rounds N] [scenario flags]`: runs the scenario against
 * legacy and ours alternately, so both see the same machine conditions, and reports medians and
 * the ratio (how many times better ours is) with an overlaid latency chart.
 */
export async function runCompare(argv: string[], runScenario: (argv: string[]) => Promise<{ json: string; result: BenchResult }>, log: (m: string) => void): Promise<CompareResult> {
  const [scenario, ...rest] = argv;
  if (!scenario || !(scenario in COMPARED)) throw new Error(`compare needs a scenario: ${Object.keys(COMPARED).join(", ")}`);
  const roundsAt = rest.indexOf("--rounds");
  const { rounds } = parseFlags(roundsAt >= 0 ? rest.slice(roundsAt, roundsAt + 2) : [], { rounds: 3 });
  const flags = roundsAt >= 0 ? [...rest.slice(0, roundsAt), ...rest.slice(roundsAt + 2)] : rest;
  const outAt = flags.indexOf("--out");
  const out = outAt >= 0 ? flags[outAt + 1]! : "bench/results";
  const run = await collectRunInfo(["compare", ...argv]);
  const runs: CompareResult["runs"] = [];
  const results: BenchResult[] = [];
  for (let r = 1; r <= rounds; r++) {
    for (const target of ["legacy", "ours"]) {
      log(`compare ${scenario}: round ${r}/${rounds}, ${target}`);
      const { json, result } = await runScenario([scenario, ...flags, "--target", target]);
      runs.push({ target, round: r, json, headline: result.headline });
      results.push(result);
    }
  }
  const medians: CompareResult["medians"] = [];
  for (const { key, better } of COMPARED[scenario]!) {
    const of = (t: string) => median(runs.filter((x) => x.target === t).map((x) => Number(x.headline[key])));
    const ours = of("ours");
    const legacy = of("legacy");
    const advantage = better === "lower" ? (ours > 0 ? legacy / ours : null) : legacy > 0 ? ours / legacy : null;
    medians.push({ figure: key, ours: round(ours, 3), legacy: round(legacy, 3), advantage: advantage === null ? null : round(advantage, 2), better });
  }
  const result: CompareResult = { scenario, run, rounds, runs, medians };
  mkdirSync(out, { recursive: true });
  const base = join(out, `compare-${scenario}-${run.startedAt.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
  const series: CdfSeries[] = results.map((res, i) => {
    // The knee's most telling curve is its highest step that held; other scenarios have one phase.
    const held = res.phases.filter((p) => p.sentPixelsPerSecond <= Number(res.headline.kneePixelsPerSecond ?? Infinity));
    const phase = (held.length > 0 ? held : res.phases).at(-1)!;
    return { label: `${res.target} r${runs[i]!.round} ${phase.name} p99 ${phase.latency.p99Ms}`, points: phase.cdf };
  });
  const svgName = `${base.split("/").at(-1)}.svg`;
  writeFileSync(`${base}.svg`, renderCdfSvg(`${scenario}: legacy vs ours, ${rounds} round(s)`, series));
  const lines = [
    `# compare ${scenario}: legacy vs ours`, "",
    `- command: \`${run.command}\``,
    `- started: ${run.startedAt}; git ${run.git.commit.slice(0, 12)}${run.git.dirty ? " (dirty)" : ""}; Node ${run.node}; ${run.machine.cores} cores; load average at start ${run.machine.loadAverage.join(", ")}`,
    `- ${rounds} round(s), targets alternating (legacy then ours) so both share the machine's conditions`, "",
    "| figure | legacy (median) | ours (median) | ours better by |", "|---|---|---|---|",
    ...medians.map((m) => `| ${m.figure} (${m.better} is better) | ${m.legacy} | ${m.ours} | ${m.advantage === null ? "–" : `${m.advantage}×`} |`),
    "", `![latency CDFs](${svgName})`, "", "## Runs", "",
    "| round | target | " + COMPARED[scenario]!.map((c) => c.key).join(" | ") + " | result |",
    "|---|---|" + COMPARED[scenario]!.map(() => "---").join("|") + "|---|",
    ...runs.map((x) => `| ${x.round} | ${x.target} | ${COMPARED[scenario]!.map((c) => String(x.headline[c.key])).join(" | ")} | ${x.json.split("/").at(-1)} |`),
    "",
  ];
  writeFileSync(`${base}.md`, lines.join("\n"));
  log(`wrote ${base}.md`);
  return result;
}
