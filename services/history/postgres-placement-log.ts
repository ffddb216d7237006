import postgres from "postgres";
import { SqlPlacementLog } from "./sql-placement-log.js";
import type { SqlRunner } from "./sql-runner.js";

/** Connections the log opens to PostgreSQL: the archiver writes on one while lookups read on the others. */
const POOL_SIZE = 4;

/** Seconds to wait for a connection before a call fails (the archiver then retries with backoff). */
const CONNECT_TIMEOUT_S = 5;

/** A SqlRunner on a `postgres` (porsager) client or one of its transactions. */
function runner(sql: postgres.Sql | postgres.TransactionSql, root: postgres.Sql): SqlRunner {
  return {
    async query<T extends Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return [...rows] as unknown as T[];
    },
    async transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
      return (await root.begin((tx) => work(runner(tx, root)))) as T;
    },
    async exec(script: string): Promise<void> {
      await sql.unsafe(script).simple();
    },
    close: () => root.end({ timeout: 5 }),
  };
}

/**
 * Opens the placement log on PostgreSQL (HISTORY_DATABASE_URL, e.g. postgres://user@host:5432/db),
 * creating its tables if missing.
 */
export async function openPostgresPlacementLog(url: string): Promise<SqlPlacementLog> {
  const sql = postgres(url, { max: POOL_SIZE, connect_timeout: CONNECT_TIMEOUT_S, onnotice: () => undefined });
  return SqlPlacementLog.open(runner(sql, sql)).catch(async (err: unknown) => {
    await sql.end({ timeout: 1 });
    throw err;
  });
}
