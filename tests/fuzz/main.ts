/**
 * The long form of the fuzz suite: `npm run fuzz -- [--frames N] [--seed S]` (default 1,000,000
 * inputs, seed from the short form). Starts its own Redis, canvas service and gateway, prints a
 * summary and writes it as JSON to bench/results/fuzz-<time>.json. Exits 1 when a check failed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../tools/process/repo-root.js";
import { argsOrExit } from "../../tools/process/args-or-exit.js";
import { formatSummary, runFuzz } from "./fuzz-run.js";
import { longForm, SHORT_SEED } from "./fuzz-presets.js";

const USAGE = "Usage: npm run fuzz -- [--frames N] [--seed S]   (defaults: --frames 1000000 --seed " + SHORT_SEED + ")";

function parse(argv: string[]): { frames: number; seed: number } {
  const args = { frames: 1_000_000, seed: SHORT_SEED };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if ((flag !== "--frames" && flag !== "--seed") || !Number.isInteger(value) || value < 0) throw new Error(USAGE);
    args[flag === "--frames" ? "frames" : "seed"] = value;
  }
  if (args.frames < 100) throw new Error(`--frames must be at least 100\n${USAGE}`);
  return args;
}

async function main(): Promise<void> {
  const args = argsOrExit(parse);
  const options = longForm(args.frames, args.seed);
  process.stdout.write(`fuzz long form: ${JSON.stringify(options)}\n`);
  const result = await runFuzz(options, (line) => process.stdout.write(`${line}\n`));
  const dir = join(repoRoot(), "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fuzz-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${formatSummary(result)}\nresults: ${file}\n`);
  process.exit(Object.values(result.failureCounts).some((n) => n > 0) ? 1 : 0);
}

void main();
