/**
 * `node dist/tests/chaos/harness/main.js <suite|all> [--short] [--<parameter> N ...]`: runs the chaos
 * and consistency suites against a fresh local cluster each, prints a summary and writes
 * JSON under bench/results/. Exits 1 when a correctness claim failed.
 */
import { repoRoot } from "../../../tools/process/repo-root.js";
import { argsOrExit } from "../../../tools/process/args-or-exit.js";
import { BACKEND_CHAOS_FULL, BACKEND_CHAOS_SHORT, runBackendChaos } from "./backend-chaos.js";
import { CONTESTED_FULL, CONTESTED_SHORT, runContestedPixels } from "./contested-pixels.js";
import { GATEWAY_CHAOS_FULL, GATEWAY_CHAOS_SHORT, runGatewayChaos } from "./gateway-chaos.js";
import { REDIS_FAILOVER_FULL, REDIS_FAILOVER_SHORT, runRedisFailover } from "./redis-failover.js";
import { LOAD_BALANCING_FULL, LOAD_BALANCING_SHORT, runLoadBalancing } from "./load-balancing.js";
import { runEnvironment, writeRunResult } from "./run-record.js";
import { formatResult, type SuiteResult } from "./suite-result.js";

interface Suite {
  full: object;
  short: object;
  run: (options: never) => Promise<SuiteResult<object>>;
}

const SUITES: Record<string, Suite> = {
  "load-balancing": { full: LOAD_BALANCING_FULL, short: LOAD_BALANCING_SHORT, run: runLoadBalancing },
  "contested-pixels": { full: CONTESTED_FULL, short: CONTESTED_SHORT, run: runContestedPixels },
  "gateway-chaos": { full: GATEWAY_CHAOS_FULL, short: GATEWAY_CHAOS_SHORT, run: runGatewayChaos },
  "backend-chaos": { full: BACKEND_CHAOS_FULL, short: BACKEND_CHAOS_SHORT, run: runBackendChaos },
  "redis-failover": { full: REDIS_FAILOVER_FULL, short: REDIS_FAILOVER_SHORT, run: runRedisFailover },
};

const USAGE = `Usage: node dist/tests/chaos/harness/main.js <${Object.keys(SUITES).join("|")}|all> [--short] [--<parameter> N]...
Parameters (numbers) override the suite's defaults, e.g. --clients 50 --gateways 4 --duration-ms 60000.
Defaults:
${Object.entries(SUITES).map(([name, s]) => `  ${name}: ${JSON.stringify(s.full)}`).join("\n")}
`;

function parse(argv: string[]): { names: string[]; short: boolean; overrides: Record<string, number> } {
  const [which, ...rest] = argv;
  if (!which || which === "--help") throw new Error(USAGE);
  const names = which === "all" ? Object.keys(SUITES) : [which];
  for (const n of names) if (!SUITES[n]) throw new Error(`unknown suite "${n}"\n\n${USAGE}`);
  let short = false;
  const overrides: Record<string, number> = {};
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    if (flag === "--short") {
      short = true;
      continue;
    }
    const key = flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = Number(rest[++i]);
    if (!flag.startsWith("--") || !Number.isFinite(value) || value < 0) throw new Error(`${flag} needs a non-negative number\n\n${USAGE}`);
    overrides[key] = value;
  }
  return { names, short, overrides };
}

async function main(): Promise<void> {
  const args = argsOrExit(parse);
  const root = repoRoot();
  let failed = false;
  for (const name of args.names) {
    const suite = SUITES[name] as Suite;
    const base = (args.short ? suite.short : suite.full) as Record<string, unknown>;
    for (const key of Object.keys(args.overrides)) {
      if (typeof base[key] !== "number") throw new Error(`${name} has no numeric parameter "${key}"; it has ${Object.keys(base).filter((k) => typeof base[k] === "number").join(", ")}`);
    }
    const options = { ...base, ...args.overrides };
    process.stdout.write(`running ${name} ${JSON.stringify(options)}\n`);
    const environment = runEnvironment(root);
    const started = Date.now();
    const result = await suite.run(options as never);
    const file = writeRunResult(root, name, { ...result, environment, wallClockMs: Date.now() - started });
    process.stdout.write(`${formatResult(result)}\n   results: ${file}\n\n`);
    failed ||= !result.passed;
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err: Error) => {
  process.stderr.write(`chaos run failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
