/**
 * The few things the placement log needs from a SQL connection, so PostgreSQL (`postgres`) and
 * PGlite run the same SQL text (placement-log-sql.ts): positional parameters ($1, $2, ...), arrays
 * passed as JS arrays (cast in the SQL, e.g. `$1::int[]`), bytea as Uint8Array.
 */
export interface SqlRunner {
  /** Runs one statement and returns its rows. Numbers of type bigint may arrive as strings or bigints: read them with `num`. */
  query<T extends Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (the schema). */
  exec(script: string): Promise<void>;
  /** Closes the connection or database. */
  close(): Promise<void>;
}

/** A numeric column as a JS number (bigint columns come back as strings from `postgres`, as bigints or numbers elsewhere). */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value);
}
