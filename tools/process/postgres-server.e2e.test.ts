import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { startPostgres, type TestPostgres } from "./postgres-server.js";

describe("startPostgres", () => {
  const started: TestPostgres[] = [];
  afterAll(async () => {
    for (const pg of started) await pg.stop();
  });

  it("runs a private server that keeps committed rows across kill -9 and an immediate stop, and removes its directory on stop", async () => {
    const pg = await startPostgres();
    started.push(pg);
    expect(pg.port).not.toBe(5432);
    let sql = postgres(pg.url, { onnotice: () => undefined, max: 1 });
    await sql`create table t (a int)`;
    await sql`insert into t values (1)`;
    await pg.kill9();
    await sql.end({ timeout: 1 }).catch(() => undefined);
    await pg.restart();
    sql = postgres(pg.url, { onnotice: () => undefined, max: 1 });
    await sql`insert into t values (2)`;
    await pg.stopImmediate();
    await expect(sql`select 1`).rejects.toThrow();
    await pg.restart();
    expect((await sql`select a from t order by a`).map((r) => r.a)).toEqual([1, 2]);
    await sql.end();
    await pg.stop();
    expect(existsSync(pg.dir)).toBe(false);
  }, 120_000);
});
