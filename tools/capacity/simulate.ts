/**
 * Prints the capacity model's inputs and, per scenario, the processes each tier needs and the
 * first limit (docs/scaling.md quotes this output). Usage, after `npm run build:services`:
 *   node dist/tools/capacity/simulate.js [--frames-per-core N] [--redis-us-per-delivery N] [--rtt-ms N] ...
 * Each flag overrides one input (see --help), e.g. with figures a quiet machine measured.
 */
import { parseArgs } from "node:util";
import { ASSUMED, defaultInputs, type Figure, type Inputs, MEASURED, R_PLACE } from "./inputs.js";
import { plan, type Plan } from "./model.js";
import { SCENARIOS } from "./scenarios.js";

const FLAGS: Record<string, keyof Inputs> = {
  "frames-per-core": "gatewayFramesPerCoreSecond",
  "max-connections": "gatewayMaxConnections",
  "redis-us-per-batch": "redisMicrosPerBatch",
  "redis-us-per-pixel": "redisMicrosPerPixel",
  "redis-us-per-delivery": "redisMicrosPerDelivery",
  "canvas-us-per-batch": "canvasMicrosPerBatch",
  "rtt-ms": "writeRoundTripMs",
  "target-utilization": "targetUtilization",
};

const n = (v: number, digits = 0): string => v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function figureRows(figures: Record<string, Figure>, inputs?: Inputs): string[] {
  return Object.entries(figures).map(([key, f]) => {
    const value = inputs ? (inputs[key as keyof Inputs] ?? f.value) : f.value;
    return `| \`${key}\` | ${n(value, value < 10 ? 2 : 0)} ${f.unit} | ${f.source} |`;
  });
}

/** The markdown docs/scaling.md quotes. */
export function report(plans: Plan[], inputs: Inputs): string {
  const out = ["## Inputs", "", "| input | value | source |", "|---|---|---|", ...figureRows(MEASURED, inputs), ...figureRows(ASSUMED, inputs), ...figureRows(R_PLACE), ""];
  out.push("## Results", "");
  out.push("| scenario | px/s | frames per socket/s | gateways (by connections / by frames) | subscribers per canvas | Lua scripts/s per canvas (px each) | hot slot, cores | Redis primaries | canvas replicas |");
  out.push("|---|---|---|---|---|---|---|---|---|");
  for (const p of plans) {
    out.push(
      `| ${p.scenario.name} | ${n(p.pixelsPerSecond)} | ${n(p.framesPerSocketSecond, 1)} | **${n(p.gateways)}** (${n(p.gatewaysByConnections)} / ${n(p.gatewaysByFrames)}) | ${n(p.subscribersPerCanvas)} | ${n(p.batchesPerCanvasSecond)} (${n(p.pixelsPerBatch, 1)}) | ${n(p.hotSlotCores, 2)} | ${n(p.redisShards)} | ${n(p.canvasReplicas)} |`,
    );
  }
  out.push("", "## First limit", "");
  for (const p of plans) out.push(`- **${p.scenario.name}**: ${p.bottleneck}.`);
  return out.join("\n");
}

function main(): void {
  const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: "string" as const }]));
  const { values } = parseArgs({ options: { ...options, help: { type: "boolean" } } });
  if (values.help) {
    console.log(`flags: ${Object.keys(FLAGS).map((f) => `--${f} N`).join(" ")}`);
    return;
  }
  const inputs = defaultInputs();
  for (const [flag, key] of Object.entries(FLAGS)) {
    const v = (values as Record<string, string | undefined>)[flag];
    if (v === undefined) continue;
    const num = Number(v);
    if (!Number.isFinite(num) || num <= 0) throw new Error(`--${flag} must be a positive number, got ${v}`);
    inputs[key] = num;
  }
  console.log(report(SCENARIOS.map((s) => plan(s, inputs)), inputs));
}

if (import.meta.url === `file://${process.argv[1]}`) main();
