import { readFileSync } from "node:fs";

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status), or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of some processes every `intervalMs` and keeps the largest sample of each. */
export class RssWatch {
  private readonly peaks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: Record<string, number>, private readonly intervalMs = 100) {}

  /** Starts sampling, forgetting earlier peaks. */
  start(): void {
    this.peaks.clear();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Stops sampling (with one last sample) and returns the peak of each process in bytes. */
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(this.peaks);
  }

  /** The current RSS of each process in bytes (0 when gone). */
  now(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.pids).map(([name, pid]) => [name, rssBytes(pid) ?? 0]));
  }

  private sample(): void {
    for (const [name, bytes] of Object.entries(this.now())) this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, bytes));
  }
}
