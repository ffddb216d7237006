import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { SqlPlacementLog } from "./sql-placement-log.js";
import type { SqlRunner } from "./sql-runner.js";

/** A SqlRunner on a PGlite database or one of its transactions. */
function runner(db: PGlite | Transaction, root: PGlite): SqlRunner {
  return {
    async query<T extends Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      return (await db.query<T>(text, params as unknown[])).rows;
    },
    transaction: <T>(work: (tx: SqlRunner) => Promise<T>) => root.transaction((tx) => work(runner(tx, root))),
    async exec(script: string): Promise<void> {
      await db.exec(script);
    },
    close: () => root.close(),
  };
}

/**
 * Opens the placement log of the embedded default on PGlite (PostgreSQL compiled to WebAssembly, in
 * this process): in `dataDir` (created if missing; `.data/history` under `npm start`), or in memory
 * when undefined. The same SQL as on PostgreSQL, so one contract suite covers both.
 */
export async function openPglitePlacementLog(dataDir: string | undefined): Promise<SqlPlacementLog> {
  if (dataDir !== undefined && !existsSync(dataDir)) await initialise(dataDir);
  const db = await PGlite.create(dataDir);
  return SqlPlacementLog.open(runner(db, db));
}

/**
 * Creates a new database with the log's tables in a temporary sibling directory and renames it to
 * `dataDir` only once complete: initdb is not crash-safe (a process stopped during it would leave
 * a directory that never opens), while PostgreSQL itself recovers from any stop once initialised.
 */
async function initialise(dataDir: string): Promise<void> {
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  for (const stale of readdirSync(parent).filter((f) => f.startsWith(`${basename(dataDir)}.init-`))) rmSync(join(parent, stale), { recursive: true, force: true });
  const temp = `${dataDir}.init-${process.pid}`;
  const db = await PGlite.create(temp);
  await SqlPlacementLog.open(runner(db, db));
  await db.close();
  renameSync(temp, dataDir);
}
