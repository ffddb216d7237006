import postgres from "postgres";
import { afterAll, beforeAll, describe } from "vitest";
import { startPostgres, type TestPostgres } from "../../tools/process/postgres-server.js";
import { openPostgresPlacementLog } from "./postgres-placement-log.js";
import { describePlacementLogContract } from "./test-support/placement-log-contract.js";

describe("PostgreSQL placement log against a real server", () => {
  let pg: TestPostgres;
  let admin: postgres.Sql;
  beforeAll(async () => {
    pg = await startPostgres();
    admin = postgres(pg.url, { max: 1, onnotice: () => undefined });
  }, 120_000);
  afterAll(async () => {
    await admin?.end();
    await pg?.stop();
  });
  describePlacementLogContract("PostgreSQL", {
    async clear() {
      await admin.unsafe("DROP SCHEMA public CASCADE; CREATE SCHEMA public;").simple();
    },
    open: () => openPostgresPlacementLog(pg.url),
  });
});
