import type { BenchResult } from "./bench-result.js";

function fmt(v: number | string | boolean): string {
  return typeof v === "number" ? v.toLocaleString("en-US", { maximumFractionDigits: 3 }) : String(v);
}

/** Renders a result as a short Markdown summary a person can read and a reviewer can check. */
export function renderSummaryMd(r: BenchResult, chartFile: string): string {
  const lines: string[] = [];
  lines.push(`# ${r.scenario} — ${r.target}`, "");
  lines.push(`- command: \`${r.run.command}\``);
  lines.push(`- started: ${r.run.startedAt}; git ${r.run.git.commit.slice(0, 12)}${r.run.git.dirty ? " (dirty)" : ""}; Node ${r.run.node}`);
  lines.push(`- machine: ${r.run.machine.cores} cores (${r.run.machine.cpuModel}), ${r.run.machine.memoryGiB} GiB; load average at start ${r.run.machine.loadAverage.join(", ")}`);
  lines.push(`- load generator: ${r.generator.workers} worker thread(s) in pid ${r.generator.pid}`, "");
  lines.push("## Headline", "");
  for (const [k, v] of Object.entries(r.headline)) lines.push(`- **${k}**: ${fmt(v)}`);
  for (const n of r.notes) lines.push(`- ${n}`);
  lines.push("", `![latency CDF](${chartFile})`, "");
  lines.push("## Phases", "");
  lines.push("| phase | target px/s | sent px/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | ack p99 ms | delivered | lost | deliveries/s | frames/s | rejected | seq gaps |");
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const p of r.phases) {
    lines.push(`| ${p.name} | ${fmt(p.targetPixelsPerSecond)} | ${fmt(p.sentPixelsPerSecond)} | ${p.latency.p50Ms} | ${p.latency.p95Ms} | ${p.latency.p99Ms} | ${p.latency.p999Ms} | ${p.latency.maxMs} | ${p.ackLatency.count ? p.ackLatency.p99Ms : "–"} | ${(p.deliveryRatio * 100).toFixed(3)} % | ${fmt(p.lost)} | ${fmt(p.pixelDeliveriesPerSecond)} | ${fmt(p.framesPerSecond)} | ${fmt(p.rejected)} | ${fmt(p.seqGaps)} |`);
  }
  lines.push("", "## Processes (CPU % of one core over each phase, RSS MiB)", "");
  lines.push("| phase | process | CPU % | RSS start | RSS end | RSS max |");
  lines.push("|---|---|---|---|---|---|");
  for (const p of r.phases) {
    for (const u of p.processes) lines.push(`| ${p.name} | ${u.role} | ${u.cpuPercent} | ${u.rssStartMiB} | ${u.rssEndMiB} | ${u.rssMaxMiB} |`);
  }
  const hops = r.phases.filter((p) => Object.keys(p.serverLatency ?? {}).length > 0);
  if (hops.length > 0) {
    lines.push("", "## Where the time goes (means of the services' own histograms over each phase)", "");
    lines.push("| phase | hop | samples | mean ms |", "|---|---|---|---|");
    for (const p of hops) for (const [hop, v] of Object.entries(p.serverLatency)) lines.push(`| ${p.name} | ${hop} | ${fmt(v.count)} | ${v.meanMs} |`);
    lines.push("", "gatewaySetPixels: gateway's SetPixels round trip; canvasSetPixels: inside the canvas service (validation + Redis script); gatewayFanout: publish → socket write on the gateway.");
  }
  const errors = r.phases.filter((p) => Object.keys(p.errorsByCode).length > 0 || p.unexpectedCloses > 0 || p.churnFailures > 0);
  if (errors.length > 0) {
    lines.push("", "## Errors", "");
    for (const p of errors) lines.push(`- ${p.name}: errors ${JSON.stringify(p.errorsByCode)}, unexpected closes ${p.unexpectedCloses}, churn connect failures ${p.churnFailures}`);
  }
  lines.push("");
  return lines.join("\n");
}
