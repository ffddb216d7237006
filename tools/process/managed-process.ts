import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";

/** How one managed process is launched; every launch (first start and restarts) uses the same spec. */
export interface ProcessSpec {
  /** Name in tables, logs and crash reports (for example `gateway-1`). */
  name: string;
  /** Executable (for example `process.execPath` or `redis-server`). */
  command: string;
  args: string[];
  /** The complete environment of the child (not merged with anything). */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** File that receives stdout and stderr of every launch, appended. */
  logFile: string;
  /** Resolves true once the process serves; polled after each launch. */
  ready: () => Promise<boolean>;
  /** How long a launch may take to become ready. */
  readyTimeoutMs: number;
  /**
   * Run in its own process group, so a terminal's Ctrl-C reaches only the launcher, which then
   * stops replicas in order. Off for tests: there a Ctrl-C should end the replicas with the runner.
   */
  ownProcessGroup: boolean;
}

/** An unexpected exit: the process died without the cluster asking it to. */
export interface CrashReport {
  name: string;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  logFile: string;
  atUnixMs: number;
}

const READY_POLL_MS = 50;
/** Time SIGTERM gets before the process is killed anyway; services drain within SHUTDOWN_GRACE_MS. */
const STOP_GRACE_MS = 12_000;

/**
 * A child process the cluster owns: started, stopped, crashed (kill -9) and restarted
 * under the same name, ports and log file. Exits the cluster did not ask for are
 * reported through `onCrash`.
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private expectingExit = false;
  private log: WriteStream | undefined;

  constructor(readonly spec: ProcessSpec, private readonly onCrash: (report: CrashReport) => void) {}

  /** The name given in the spec. */
  get name(): string {
    return this.spec.name;
  }

  /** The pid of the running launch, or undefined when it is not running. */
  get pid(): number | undefined {
    return this.alive ? this.child?.pid : undefined;
  }

  /** True while the current launch has not exited. */
  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Launches the process and waits until `spec.ready` answers true. */
  async start(): Promise<void> {
    if (this.alive) throw new Error(`${this.name} is already running (pid ${this.child?.pid})`);
    this.log ??= createWriteStream(this.spec.logFile, { flags: "a" });
    this.log.write(`\n--- ${new Date().toISOString()} start ${this.spec.command} ${this.spec.args.join(" ")}\n`);
    this.expectingExit = false;
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd, env: this.spec.env, stdio: ["ignore", "pipe", "pipe"], detached: this.spec.ownProcessGroup,
    });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    let spawnError: Error | undefined;
    child.once("error", (err) => (spawnError = err));
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.log?.write(`--- ${new Date().toISOString()} exit code=${code} signal=${signal}\n`);
        if (!this.expectingExit) {
          this.onCrash({ name: this.name, pid: child.pid, code, signal, logFile: this.spec.logFile, atUnixMs: Date.now() });
        }
        resolve();
      });
    });
    const deadline = Date.now() + this.spec.readyTimeoutMs;
    for (;;) {
      if (spawnError) throw new Error(`cannot start ${this.name} (${this.spec.command}): ${spawnError.message}`);
      if (!this.alive) throw new Error(`${this.name} exited during start (code ${child.exitCode}, signal ${child.signalCode}); see ${this.spec.logFile}`);
      if (await this.spec.ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        await this.kill9();
        throw new Error(`${this.name} not ready after ${this.spec.readyTimeoutMs} ms; see ${this.spec.logFile}`);
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }

  /** SIGKILL, as a crash would (the exit is not reported as a crash), and waits for the exit. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.expectingExit = true;
    this.child?.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM (a graceful drain), SIGKILL after a grace period, and waits for the exit. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.expectingExit = true;
    this.child?.kill("SIGTERM");
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops the process if it runs (gracefully) and starts it again with the same spec. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Kills the process at once without waiting; for the synchronous `exit` handler only. */
  killNow(): void {
    if (!this.alive) return;
    this.expectingExit = true;
    this.child?.kill("SIGKILL");
  }

  /** Closes the log file once the process is gone for good. */
  async close(): Promise<void> {
    await this.stop();
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((r) => log.end(r));
  }
}

/** Answers true when `url` responds with HTTP 200 within a short timeout. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await res.arrayBuffer();
  return res.status === 200;
}
