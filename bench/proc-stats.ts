import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Kernel clock ticks per second, for utime/stime in /proc/<pid>/stat. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** One process the benchmark watches. */
export interface WatchedProcess {
  role: string;
  pid: number;
}

/** CPU and memory of one process at one moment. */
export interface ProcSample {
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  rssBytes: number;
  /** Peak RSS so far (VmHWM). */
  peakRssBytes: number;
}

/** Reads /proc/<pid>/stat and /proc/<pid>/status; undefined once the process is gone. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may contain spaces, start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { cpuSeconds: (utime + stime) / CLK_TCK, rssBytes: kb("VmRSS"), peakRssBytes: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** CPU and memory of one process over a measured window. */
export interface ProcUsage {
  role: string;
  pid: number;
  /** Average CPU over the window, in percent of one core. */
  cpuPercent: number;
  cpuSeconds: number;
  rssStartMiB: number;
  rssEndMiB: number;
  rssMaxMiB: number;
}

const MIB = 1024 * 1024;

/**
 * Samples every watched process each `intervalMs` between start() and stop(), and
 * reports CPU (utime + stime delta) and RSS (start, end, largest sample) for each.
 */
export class ProcSampler {
  private readonly first = new Map<number, ProcSample>();
  private readonly last = new Map<number, ProcSample>();
  private readonly maxRss = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private stoppedAt = 0;

  constructor(private readonly processes: WatchedProcess[], private readonly intervalMs = 500) {}

  /** Takes the first sample and starts sampling. */
  start(): void {
    this.first.clear();
    this.last.clear();
    this.maxRss.clear();
    this.startedAt = performance.now();
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), this.intervalMs);
  }

  /** Takes the last sample and returns the usage of every process. */
  stop(): ProcUsage[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample(false);
    this.stoppedAt = performance.now();
    const seconds = (this.stoppedAt - this.startedAt) / 1000;
    return this.processes.map(({ role, pid }) => {
      const a = this.first.get(pid);
      const b = this.last.get(pid);
      const cpu = a && b ? b.cpuSeconds - a.cpuSeconds : 0;
      return {
        role,
        pid,
        cpuSeconds: round(cpu, 2),
        cpuPercent: round(seconds > 0 ? (100 * cpu) / seconds : 0, 1),
        rssStartMiB: round((a?.rssBytes ?? 0) / MIB, 1),
        rssEndMiB: round((b?.rssBytes ?? 0) / MIB, 1),
        rssMaxMiB: round((this.maxRss.get(pid) ?? 0) / MIB, 1),
      };
    });
  }

  private sample(first: boolean): void {
    for (const { pid } of this.processes) {
      const s = readProc(pid);
      if (!s) continue;
      if (first || !this.first.has(pid)) this.first.set(pid, s);
      this.last.set(pid, s);
      this.maxRss.set(pid, Math.max(this.maxRss.get(pid) ?? 0, s.rssBytes));
    }
  }
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
