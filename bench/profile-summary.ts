/**
 * Summarises V8 .cpuprofile files (written by `node --cpu-prof`, which the harness's
 * `--profile` flag turns on for every server process): self time per function, so a
 * result can say where the time goes. CLI: `node dist/bench/profile-summary.js <file>... [--top N]`.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One function's share of a profile. */
export interface HotFunction {
  name: string;
  selfMs: number;
  selfPercent: number;
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, "$1/")}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
}

/** The functions with the most self time in a profile, largest first, as shares of busy (non-idle) time. */
export function hotFunctions(profile: CpuProfile, top: number): { totalMs: number; functions: HotFunction[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const node = byId.get(id);
    const key = node ? label(node) : "(unknown)";
    // Idle time says nothing about where the work goes; shares are of busy time.
    if (key === "(idle)") {
      total -= dt;
      return;
    }
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const functions = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, selfMs: Math.round(ms), selfPercent: Math.round((1000 * ms) / total) / 10 }));
  return { totalMs: Math.round(total), functions };
}

/** Reads a .cpuprofile file and returns its hottest functions. */
export function summarizeProfileFile(path: string, top: number): { file: string; totalMs: number; functions: HotFunction[] } {
  return { file: basename(path), ...hotFunctions(JSON.parse(readFileSync(path, "utf8")) as CpuProfile, top) };
}

if (process.argv[1]?.endsWith("profile-summary.js")) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf("--top");
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 20;
  const files = topAt >= 0 ? args.filter((_, i) => i !== topAt && i !== topAt + 1) : args;
  for (const file of files) {
    const s = summarizeProfileFile(file, top);
    process.stdout.write(`\n${s.file}: ${s.totalMs} ms busy\n`);
    for (const f of s.functions) process.stdout.write(`${String(f.selfPercent).padStart(6)} %  ${String(f.selfMs).padStart(7)} ms  ${f.name}\n`);
  }
}
