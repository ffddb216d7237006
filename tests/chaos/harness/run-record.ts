import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

/** Where a run happened: enough to rerun it and to compare runs. */
export interface RunEnvironment {
  gitCommit: string;
  gitDirty: boolean;
  node: string;
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  /** 1-minute load average at the start: the machine is shared, so this says how busy it was. */
  loadAverage1m: number;
  startedAt: string;
}

/** Describes the current checkout and machine. */
export function runEnvironment(root: string): RunEnvironment {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  return {
    gitCommit: git("rev-parse", "HEAD") || "unknown",
    gitDirty: git("status", "--porcelain", "--untracked-files=no") !== "",
    node: process.version,
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryBytes: totalmem(),
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    startedAt: new Date().toISOString(),
  };
}

/** Writes `result` as `bench/results/chaos-<suite>-<timestamp>.json` (bigints as strings) and returns the path. */
export function writeRunResult(root: string, suite: string, result: unknown): string {
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = join(dir, `chaos-${suite}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(result, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v), 2)}\n`);
  return file;
}
