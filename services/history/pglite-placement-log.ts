import { mkdirSync } from "node:fs";
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
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir === undefined ? undefined : dataDir);
  return SqlPlacementLog.open(runner(db, db));
}
