import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFlags } from "../flags.js";
import { summarizeMicros, type LatencySummary } from "../latency-histogram.js";
import { ProcSampler, round } from "../proc-stats.js";
import { startBenchRedis } from "../redis-process.js";
import { collectRunInfo, type RunInfo } from "../run-info.js";
import { benchTransport, runConnectLoad } from "./connect-load.js";
import { runH2load } from "./h2load-run.js";
import { startGrpcJsPeer, startOurCanvas, type RpcServer } from "./rpc-servers.js";
import { rpcCases, type RpcProtocol } from "./rpc-wire.js";
import { renderRpcSummary } from "./rpc-summary.js";
import { verifyCall } from "./verify-call.js";

const DEFAULTS = {
  /** Seconds per measurement. */
  seconds: 5,
  "warmup-seconds": 1,
  "h2load-clients": 4,
  "h2load-streams": 50,
  /** Calls in flight on the one connect-node transport. */
  "in-flight": 50,
  /** SetPixels batch sizes, comma-separated. */
  sizes: "1,100,1000",
  /** Which load tools to run: h2load, connect or both. */
  tools: "h2load,connect",
  /** Protocols to drive on our server. */
  protocols: "connect,grpc,grpc-web",
  /** Include the @grpc/grpc-js reference peer (gRPC only). */
  peer: true,
  width: 50,
  height: 50,
  appendfsync: "everysec",
  out: "bench/results",
};

/** One measurement row. */
export interface RpcRow {
  server: string;
  protocol: RpcProtocol;
  call: string;
  tool: "h2load" | "connect-node";
  callsPerSecond: number;
  pixelsPerSecond: number;
  failures: number;
  /** connect-node client only (h2load reports no percentiles). */
  latency?: LatencySummary;
  /** h2load only. */
  meanMs?: number;
  maxMs?: number;
  serverCpuPercent: number;
  redisCpuPercent: number;
  command: string;
}

/** The RPC benchmark's result file. */
export interface RpcResult {
  scenario: "rpc";
  run: RunInfo;
  parameters: typeof DEFAULTS;
  rows: RpcRow[];
  /** ours / grpc-js on the gRPC protocol, per call and tool (calls per second). */
  ratios: Array<{ call: string; tool: string; ours: number; peer: number; ratio: number }>;
}

/** `npm run bench -- rpc`: GetCanvas and SetPixels over Connect, gRPC and gRPC-Web, ours vs grpc-js. */
export async function runRpcBench(argv: string[], log: (m: string) => void): Promise<RpcResult> {
  const f = parseFlags(argv, DEFAULTS);
  const run = await collectRunInfo(["rpc", ...argv]);
  const sizes = f.sizes.split(",").map(Number).filter((n) => n > 0);
  const tools = f.tools.split(",");
  const protocols = f.protocols.split(",") as RpcProtocol[];
  const cases = rpcCases(f.width, f.height, sizes);
  const redis = await startBenchRedis({ appendonly: true, appendfsync: f.appendfsync as "always" | "everysec" | "no" });
  const tmp = mkdtempSync(join(tmpdir(), "pixel-rpc-bench-"));
  const servers: RpcServer[] = [];
  const rows: RpcRow[] = [];
  try {
    servers.push(await startOurCanvas(redis.url, f.width, f.height));
    if (f.peer) servers.push(await startGrpcJsPeer(redis.url, f.width, f.height));
    for (const server of servers) {
      const isPeer = server !== servers[0];
      for (const protocol of isPeer ? (["grpc"] as RpcProtocol[]) : protocols) {
        for (const c of cases) {
          // A stream's requests are checked by the client itself (every answer must be "stored").
          const unary = c.method !== "WritePixels";
          if (!unary && protocol === "grpc-web") continue;
          const path = `/pixel.v1.CanvasService/${c.method}`;
          const bad = unary ? await verifyCall(server.baseUrl, path, protocol, c.message) : undefined;
          if (bad) throw new Error(`${server.name} ${protocol} ${c.name} answered badly: ${bad}`);
          const sampler = new ProcSampler([{ role: "server", pid: server.pid }, { role: "redis", pid: redis.pid }]);
          const cpu = () => {
            const u = sampler.stop();
            return { server: u[0]!.cpuPercent, redis: u[1]!.cpuPercent };
          };
          if (tools.includes("h2load") && unary) {
            sampler.start();
            const h = await runH2load({ url: server.baseUrl + path, protocol, message: c.message, clients: f["h2load-clients"], streams: f["h2load-streams"], seconds: f.seconds, warmupSeconds: f["warmup-seconds"], bodyFile: join(tmp, "body.bin") });
            const u = cpu();
            rows.push({ server: server.name, protocol, call: c.name, tool: "h2load", callsPerSecond: round(h.requestsPerSecond, 0), pixelsPerSecond: round(h.requestsPerSecond * c.pixels, 0), failures: h.failed + h.errored, meanMs: h.meanMs, maxMs: h.maxMs, serverCpuPercent: u.server, redisCpuPercent: u.redis, command: h.command });
            log(`${server.name} ${protocol} ${c.name} h2load: ${round(h.requestsPerSecond, 0)} req/s, mean ${h.meanMs} ms, failed ${h.failed}`);
          }
          if (tools.includes("connect")) {
            const transport = benchTransport(protocol, server.baseUrl);
            await runConnectLoad(transport, c, f["in-flight"], f["warmup-seconds"]);
            sampler.start();
            const r = await runConnectLoad(transport, c, f["in-flight"], f.seconds);
            const u = cpu();
            const how = unary ? `${f["in-flight"]} calls in flight` : `one WritePixels stream, ${f["in-flight"]} requests in flight`;
            rows.push({ server: server.name, protocol, call: c.name, tool: "connect-node", callsPerSecond: round(r.callsPerSecond, 0), pixelsPerSecond: round(r.pixelsPerSecond, 0), failures: r.failures, latency: summarizeMicros(r.latency), serverCpuPercent: u.server, redisCpuPercent: u.redis, command: `connect-node ${protocol} transport, ${how}, ${f.seconds} s` });
            log(`${server.name} ${protocol} ${c.name} connect-node: ${round(r.callsPerSecond, 0)} calls/s, p99 ${summarizeMicros(r.latency).p99Ms} ms, failures ${r.failures}${r.firstFailure ? ` (${r.firstFailure})` : ""}`);
          }
        }
      }
    }
  } finally {
    for (const s of servers) await s.stop();
    await redis.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const ratios: RpcResult["ratios"] = [];
  const ours = servers[0]?.name;
  for (const row of rows) {
    if (row.server === ours || row.protocol !== "grpc") continue;
    const mine = rows.find((r) => r.server === ours && r.protocol === "grpc" && r.call === row.call && r.tool === row.tool);
    if (mine) ratios.push({ call: row.call, tool: row.tool, ours: mine.callsPerSecond, peer: row.callsPerSecond, ratio: round(mine.callsPerSecond / row.callsPerSecond, 2) });
  }
  const result: RpcResult = { scenario: "rpc", run, parameters: f, rows, ratios };
  mkdirSync(f.out, { recursive: true });
  const base = join(f.out, `rpc-${run.startedAt.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(`${base}.md`, renderRpcSummary(result));
  log(`wrote ${base}.json and ${base}.md`);
  return result;
}
