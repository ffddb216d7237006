import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, waitFor } from "./free-port.js";

const run = promisify(execFile);

/** The database role every test server is initialised with (trust authentication, local only). */
const ROLE = "pixel";

/** A private PostgreSQL server started by a test or benchmark, on its own port and data directory. */
export interface TestPostgres {
  port: number;
  /** postgres://pixel@127.0.0.1:<port>/postgres */
  url: string;
  /** The temporary directory holding the data directory, the socket and the server log. */
  dir: string;
  /** `pg_ctl stop -m immediate`: the server stops at once without a checkpoint, as a crash would. */
  stopImmediate(): Promise<void>;
  /** SIGKILL to the postmaster and every backend (its process group), as `kill -9` of the whole server. */
  kill9(): Promise<void>;
  /** Starts it again on the same port and data directory (it recovers from its WAL). */
  restart(): Promise<void>;
  /** Stops it (fast shutdown) and deletes its directory. */
  stop(): Promise<void>;
}

/** Options of startPostgres. */
export interface TestPostgresOptions {
  /** Extra server settings (`-c name=value`), e.g. { max_wal_size: "2GB" }. */
  settings?: Record<string, string>;
}

/**
 * The directory of the PostgreSQL server binaries: PG_BIN_DIR, else the newest
 * /usr/lib/postgresql/<major>/bin (Debian's layout) of major 15 or later. Throws, naming the package
 * to install, when there is none: tests that need a database fail loudly rather than skip.
 */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env.PG_BIN_DIR
    ? [env.PG_BIN_DIR]
    : existsSync("/usr/lib/postgresql")
      ? readdirSync("/usr/lib/postgresql")
          .filter((v) => /^\d+$/.test(v) && Number(v) >= 15)
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => join("/usr/lib/postgresql", v, "bin"))
      : [];
  const found = candidates.find((dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres")));
  if (found === undefined) {
    throw new Error(
      "no PostgreSQL server binaries (initdb, postgres) found in PG_BIN_DIR or /usr/lib/postgresql/<15+>/bin: apt-get install -y postgresql-15 (or postgresql)",
    );
  }
  return found;
}

/** uid/gid to run the server as: PostgreSQL refuses to run as root, so root runs it as `postgres` (or `nobody`). */
function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n").map((line) => line.split(":"));
  const entry = passwd.find((f) => f[0] === "postgres") ?? passwd.find((f) => f[0] === "nobody");
  if (entry === undefined) throw new Error("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as");
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/**
 * Starts a PostgreSQL server of its own: `initdb` into a fresh temporary directory (trust
 * authentication for the role `pixel`), then `postgres` on a free port of 127.0.0.1 with its unix
 * socket in that directory. It never touches the machine's shared server on 5432.
 */
export async function startPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const user = unprivilegedUser();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "pixel-postgres-"));
  const data = join(dir, "data");
  const socketDir = join(dir, "socket");
  mkdirSync(socketDir);
  if (user) for (const d of [dir, socketDir]) chownSync(d, user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  try {
    await run(join(bin, "initdb"), ["-D", data, "-U", ROLE, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], { ...asUser, cwd: dir });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
  const settings = { listen_addresses: "127.0.0.1", unix_socket_directories: socketDir, ...options.settings };
  const args = ["-D", data, "-p", String(port), ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
  let child: ChildProcess | undefined;
  const logFile = join(dir, "postgres.log");
  const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));
  const ready = () =>
    run(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-U", ROLE, "-d", "postgres"]).then(
      () => true,
      () => false,
    );
  const launch = async () => {
    const log = openSync(logFile, "a");
    if (user) chownSync(logFile, user.uid, user.gid);
    // Its own process group, so kill9 can take the backends with it.
    child = spawn(join(bin, "postgres"), args, { ...asUser, cwd: dir, stdio: ["ignore", log, log], detached: true });
    closeSync(log);
    const started = child;
    started.once("error", (err) => {
      throw new Error(`cannot start postgres from ${bin}: ${err.message}`);
    });
    await waitFor(`postgres on port ${port} (log: ${logFile})`, async () => {
      if (started.exitCode !== null) throw new Error(`postgres exited with ${started.exitCode}; see ${logFile}`);
      return ready();
    }, 60_000, 100);
  };
  const pgCtlStop = async (mode: "fast" | "immediate") => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const c = child;
    await run(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", mode, "-w"], asUser).catch(() => c.kill("SIGQUIT"));
    await exited(c);
  };
  await launch();
  return {
    port,
    url: `postgres://${ROLE}@127.0.0.1:${port}/postgres`,
    dir,
    stopImmediate: () => pgCtlStop("immediate"),
    async kill9() {
      if (!child) return;
      const c = child;
      if (c.pid !== undefined && c.exitCode === null) process.kill(-c.pid, "SIGKILL");
      await exited(c);
    },
    restart: launch,
    async stop() {
      await pgCtlStop("fast");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
