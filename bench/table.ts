import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCompare, type CompareResult } from "./compare.js";
import { parseFlags, UsageError } from "./flags.js";
import type { BenchResult } from "./report/bench-result.js";
import { collectRunInfo } from "./run-info.js";

/** One comparison the performance table is made of. */
interface TableRow {
  goal: string;
  scenario: string;
  method: "outsider" | "scanner";
  /** The compared figures this row shows. */
  figures: string[];
  /** Whether ours met the goal, from the medians. */
  verdict(m: Record<string, CompareResult["medians"][number]>): boolean;
}

/** The README's performance table: the outsider's method is the headline, the scanner's beside it for knee and seed-stress. */
const ROWS: TableRow[] = [
  { goal: "knee, 200 clients on 2 gateways: ≥ 25× legacy at p99 ≤ 100 ms, nothing lost", scenario: "knee", method: "outsider", figures: ["kneePixelsPerSecond"], verdict: (m) => (m.kneePixelsPerSecond!.advantage ?? 0) >= 25 },
  { goal: "knee (pre-issue-10 method, for reference)", scenario: "knee", method: "scanner", figures: ["kneePixelsPerSecond"], verdict: (m) => (m.kneePixelsPerSecond!.advantage ?? 0) >= 25 },
  { goal: "seed-stress: p99 ≤ 10 ms, p50 no worse than legacy, 0 lost", scenario: "seed-stress", method: "outsider", figures: ["p50Ms", "p99Ms", "pixelsLost"], verdict: (m) => m.p99Ms!.ours <= 10 && m.p50Ms!.ours <= m.p50Ms!.legacy && m.pixelsLost!.ours === 0 },
  { goal: "seed-stress (pre-issue-10 method, for reference)", scenario: "seed-stress", method: "scanner", figures: ["p50Ms", "p99Ms", "pixelsLost"], verdict: (m) => m.p99Ms!.ours <= 10 && m.p50Ms!.ours <= m.p50Ms!.legacy && m.pixelsLost!.ours === 0 },
  { goal: "fanout, 2,000 clients, 1,000 px/s: p99 ≤ 50 ms, 0 lost", scenario: "fanout", method: "outsider", figures: ["p50Ms", "p99Ms", "pixelsLost"], verdict: (m) => m.p99Ms!.ours <= 50 && m.pixelsLost!.ours === 0 },
  { goal: "connections: ≤ 16 KiB RSS per idle connection", scenario: "connections", method: "outsider", figures: ["rssPerConnectionKiB"], verdict: (m) => m.rssPerConnectionKiB!.ours <= 16 },
];

/** `--smoke`: each scenario shrunk to seconds, to prove the command end to end; its figures mean nothing. */
const SMOKE_FLAGS: Record<string, string[]> = {
  knee: ["--clients", "4", "--start-rate", "20", "--max-rate", "40", "--step-seconds", "1", "--warmup-seconds", "0"],
  "seed-stress": ["--clients", "4", "--rate", "40", "--churn", "0", "--duration", "1", "--warmup-seconds", "0"],
  fanout: ["--clients", "6", "--rate", "20", "--duration", "1", "--warmup-seconds", "0"],
  connections: ["--clients", "20", "--duration", "1", "--settle-ms", "200", "--warmup-seconds", "0"],
};

const cell = (m: CompareResult["medians"][number], side: "ours" | "legacy") => `${m[side]} (${m[side === "ours" ? "oursSpread" : "legacySpread"].join("–")})`;

/**
 * `npm run bench -- table [--rounds N] [--methods outsider,scanner] [--smoke] [--allow-dirty] [--out DIR]`:
 * runs every comparison of the README's performance table in sequence (legacy and ours
 * alternating, N rounds each) and writes `table-<timestamp>.md` with medians, spreads and
 * verdicts, naming the commit every figure was taken at. About 70 minutes with the default 3
 * rounds; `--methods outsider` leaves out the scanner method's reference rows (about 45).
 */
export async function runTable(argv: string[], runScenario: (argv: string[]) => Promise<{ json: string; result: BenchResult }>, log: (m: string) => void): Promise<string> {
  const flags = parseFlags(argv, { rounds: 3, methods: "outsider,scanner", smoke: false, "allow-dirty": false, out: "bench/results" });
  if (flags.rounds < 1) throw new UsageError("--rounds needs at least 1");
  const methods = flags.methods.split(",");
  if (methods.length === 0 || methods.some((m) => m !== "outsider" && m !== "scanner")) throw new UsageError(`--methods ${flags.methods}: a list of outsider and scanner`);
  const run = await collectRunInfo(["table", ...argv]);
  if (run.git.dirty && !flags["allow-dirty"]) throw new UsageError("the working tree has uncommitted changes: commit first (the table names the commit its figures come from), or pass --allow-dirty");
  const lines = [
    "# Performance table", "",
    `- command: \`${run.command}\`${flags.smoke ? " (smoke run: scenarios shrunk to seconds, the figures mean nothing)" : ""}`,
    `- git ${run.git.commit}${run.git.dirty ? " (dirty)" : ""}; Node ${run.node}; ${run.machine.cores} cores, ${run.machine.cpuModel}; load average at start ${run.machine.loadAverage.join(", ")}`,
    `- ${flags.rounds} round(s) per comparison, legacy and ours alternating; medians, (min–max) over rounds; methods in bench/README.md, "Two methods"`, "",
    "| goal | method | figure | legacy | ours | ours better by | verdict | result |", "|---|---|---|---|---|---|---|---|",
  ];
  for (const row of ROWS.filter((r) => methods.includes(r.method))) {
    log(`table: ${row.scenario}, ${row.method} method`);
    const args = [row.scenario, "--method", row.method, "--rounds", String(flags.rounds), "--out", flags.out, ...(flags.smoke ? SMOKE_FLAGS[row.scenario]! : []), ...(flags["allow-dirty"] ? ["--allow-dirty"] : [])];
    const { result, md } = await runCompare(args, runScenario, log);
    const byFigure = Object.fromEntries(result.medians.map((m) => [m.figure, m]));
    const verdict = row.verdict(byFigure) ? "✓" : "✗";
    row.figures.forEach((figure, i) => {
      const m = byFigure[figure]!;
      lines.push(`| ${i === 0 ? row.goal : ""} | ${row.method} | ${figure} | ${cell(m, "legacy")} | ${cell(m, "ours")} | ${m.advantage === null ? "–" : `${m.advantage}×`} | ${i === 0 ? verdict : ""} | ${i === 0 ? md.split("/").at(-1) : ""} |`);
    });
  }
  mkdirSync(flags.out, { recursive: true });
  const path = join(flags.out, `table-${run.startedAt.replace(/[:.]/g, "-")}.md`);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}
