import { execFileSync } from "node:child_process";
import { cpus, release, totalmem } from "node:os";

/** Where and from what a run was made, recorded in every result file. */
export interface RunInfo {
  startedAt: string;
  command: string;
  git: { commit: string; dirty: boolean };
  machine: { cores: number; cpuModel: string; memoryGiB: number; kernel: string; loadAverage: number[] };
  node: string;
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return "unknown";
  }
}

/** Collects the git commit, machine and Node version, and the command line as typed. */
export async function collectRunInfo(argv: string[]): Promise<RunInfo> {
  const { loadavg } = await import("node:os");
  return {
    startedAt: new Date().toISOString(),
    command: `npm run bench -- ${argv.join(" ")}`,
    git: { commit: git(["rev-parse", "HEAD"]), dirty: git(["status", "--porcelain", "--untracked-files=no"]) !== "" },
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      kernel: release(),
      loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
    },
    node: process.version,
  };
}
