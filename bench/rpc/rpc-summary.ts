import type { RpcResult } from "./rpc-bench.js";

/** Renders the RPC benchmark as Markdown: every row, then the ratios to grpc-js. */
export function renderRpcSummary(r: RpcResult): string {
  const n = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 2 });
  const lines = [
    "# rpc — CanvasService over Connect, gRPC and gRPC-Web", "",
    `- command: \`${r.run.command}\``,
    `- started: ${r.run.startedAt}; git ${r.run.git.commit.slice(0, 12)}${r.run.git.dirty ? " (dirty)" : ""}; Node ${r.run.node}`,
    `- machine: ${r.run.machine.cores} cores, ${r.run.machine.memoryGiB} GiB; load average at start ${r.run.machine.loadAverage.join(", ")}`, "",
    "| server | protocol | call | tool | calls/s | pixels/s | p50 ms | p99 ms | mean ms | failures | server CPU % | redis CPU % |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const row of r.rows) {
    lines.push(`| ${row.server} | ${row.protocol} | ${row.call} | ${row.tool} | ${n(row.callsPerSecond)} | ${n(row.pixelsPerSecond)} | ${row.latency?.p50Ms ?? "–"} | ${row.latency?.p99Ms ?? "–"} | ${row.meanMs !== undefined ? n(row.meanMs) : row.latency ? row.latency.meanMs : "–"} | ${row.failures} | ${row.serverCpuPercent} | ${row.redisCpuPercent} |`);
  }
  if (r.ratios.length > 0) {
    lines.push("", "## Ours / @grpc/grpc-js on the gRPC protocol (same store, same Redis, same run)", "", "| call | tool | ours calls/s | grpc-js calls/s | ratio |", "|---|---|---|---|---|");
    for (const x of r.ratios) lines.push(`| ${x.call} | ${x.tool} | ${n(x.ours)} | ${n(x.peer)} | ${x.ratio} |`);
  }
  lines.push("", "h2load commands:", "");
  for (const row of r.rows.filter((x) => x.tool === "h2load")) lines.push(`- ${row.server} ${row.protocol} ${row.call}: \`${row.command}\``);
  lines.push("");
  return lines.join("\n");
}
