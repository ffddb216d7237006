import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { wireRequest, type RpcProtocol } from "./rpc-wire.js";

const run = promisify(execFile);

/** What h2load reports for one run. */
export interface H2loadResult {
  requestsPerSecond: number;
  succeeded: number;
  failed: number;
  errored: number;
  /** h2load's "time for request" (it gives no percentiles). */
  meanMs: number;
  maxMs: number;
  /** The command as run. */
  command: string;
}

/** Parses h2load's text output. */
export function parseH2load(text: string): Omit<H2loadResult, "command"> {
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
  const toMs = (value: string | undefined, unit: string | undefined) => {
    const v = Number(value);
    return unit === "us" ? v / 1000 : unit === "s" ? v * 1000 : v;
  };
  const t = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(text);
  return {
    requestsPerSecond: num(/finished in [\d.]+\w+, ([\d.]+) req\/s/),
    succeeded: num(/(\d+) succeeded/),
    failed: num(/(\d+) failed/),
    errored: num(/(\d+) errored/),
    meanMs: t ? toMs(t[5], t[6]) : Number.NaN,
    maxMs: t ? toMs(t[3], t[4]) : Number.NaN,
  };
}

/** Options of one h2load run. */
export interface H2loadOptions {
  url: string;
  protocol: RpcProtocol;
  message: Uint8Array;
  clients: number;
  streams: number;
  seconds: number;
  warmupSeconds: number;
  bodyFile: string;
}

/** Runs h2load for a duration against one path with the protocol's body and headers. */
export async function runH2load(o: H2loadOptions): Promise<H2loadResult> {
  const { body, headers } = wireRequest(o.protocol, o.message);
  writeFileSync(o.bodyFile, body);
  const args = [
    "-c", String(o.clients), "-m", String(o.streams), "-D", String(o.seconds), "--warm-up-time", String(o.warmupSeconds),
    "-d", o.bodyFile, ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]), o.url,
  ];
  const { stdout } = await run("h2load", args, { timeout: (o.seconds + o.warmupSeconds + 30) * 1000, maxBuffer: 4 * 1024 * 1024 });
  return { ...parseH2load(stdout), command: `h2load ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")}` };
}
