import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { openPostgresPlacementLog } from "../../services/history/postgres-placement-log.js";
import { startPostgres } from "../../tools/process/postgres-server.js";
import { Prng } from "../../tools/prng.js";
import { parseFlags } from "../flags.js";
import { LatencyHistogram, summarizeMicros } from "../latency-histogram.js";
import { collectRunInfo } from "../run-info.js";

const DEFAULTS = {
  /** Placements (distinct pixels of batches) in the log. */
  placements: 10_000_000,
  /** Pixels per batch. */
  "batch-pixels": 100,
  width: 2048,
  height: 2048,
  /** Distinct users placing. */
  users: 10_000,
  /** Random pixels looked up, one after another. */
  lookups: 10_000,
  /** Placements returned per lookup (LookupPixel's default). */
  limit: 10,
  out: "bench/results",
};

/** Placements inserted per fill statement (progress is logged per chunk). */
const FILL_CHUNK = 1_000_000;
const EPOCH = 1_700_000_000_000;
const T0 = 1_800_000_000_000;

/**
 * `npm run bench -- lookup`: fills a placement log on a private PostgreSQL with N placements
 * (generate_series in SQL: random pixels of a width x height canvas, one author per batch, batches
 * with their packed pixels built from the same rows), then looks up random pixels one at a time
 * through PlacementLog.lookupPixel (what LookupPixel runs) and reports p50/p99/max, and the log's
 * size on disk (pg_total_relation_size of its tables) per million placements.
 * The indexes are built after the fill, so they are packed tighter than ones grown by inserts.
 */
export async function runLookupBench(argv: string[], log: (m: string) => void): Promise<void> {
  const flags = parseFlags(argv, DEFAULTS);
  const run = await collectRunInfo(["lookup", ...argv]);
  const pg = await startPostgres({ settings: { max_wal_size: "4GB", maintenance_work_mem: "256MB", shared_buffers: "256MB" } });
  const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
  try {
    const placementLog = await openPostgresPlacementLog(pg.url);
    await sql`INSERT INTO history_canvases (name) VALUES ('bench')`;
    await sql`INSERT INTO history_authors (user_id, name) SELECT 'u' || i, 'user ' || i FROM generate_series(1, ${flags.users}) i ON CONFLICT DO NOTHING`;
    const [{ id: canvas }] = (await sql`SELECT id FROM history_canvases WHERE name = 'bench'`) as unknown as [{ id: number }];
    const [{ min: firstAuthor }] = (await sql`SELECT min(id) AS min FROM history_authors WHERE user_id LIKE 'u%'`) as unknown as [{ min: number }];
    await sql`DROP INDEX history_placements_pixel`;
    await sql`DROP INDEX history_placements_author`;
    const started = Date.now();
    for (let from = 0; from < flags.placements; from += FILL_CHUNK) {
      const to = Math.min(flags.placements, from + FILL_CHUNK) - 1;
      await sql`
        INSERT INTO history_placements (canvas, epoch, seq, x, y, color, previous_color, author)
        SELECT ${canvas}, ${EPOCH}, i / ${flags["batch-pixels"]} + 1,
          floor(random() * ${flags.width})::smallint, floor(random() * ${flags.height})::smallint,
          floor(random() * 16777216)::int, floor(random() * 16777216)::int,
          ${firstAuthor} + ((i / ${flags["batch-pixels"]}) % ${flags.users})::int
        FROM generate_series(${from}::bigint, ${to}::bigint) i`;
      log(`filled ${to + 1} placements`);
    }
    await sql`
      INSERT INTO history_batches (canvas, epoch, seq, time_ms, kind, author, pixel_count, pixels, run_authors, run_counts)
      SELECT canvas, epoch, seq, ${T0} + seq * 10, 1, '', count(*),
        string_agg(int2send(x) || int2send(y) || substring(int4send(color) from 2) || substring(int4send(previous_color) from 2), ''::bytea),
        ARRAY[min(author)], ARRAY[count(*)::int]
      FROM history_placements GROUP BY canvas, epoch, seq`;
    log("built the batch rows; building indexes");
    await sql`CREATE INDEX history_placements_pixel ON history_placements (canvas, x, y, epoch DESC, seq DESC)`;
    await sql`CREATE INDEX history_placements_author ON history_placements (canvas, epoch, author, seq)`;
    await sql`VACUUM ANALYZE`;
    const fillSeconds = (Date.now() - started) / 1000;
    const bytes = await placementLog.sizeOnDisk();
    const tables = await sql`SELECT relname AS table, pg_total_relation_size(oid) AS bytes FROM pg_class WHERE relname LIKE 'history_%' AND relkind = 'r' ORDER BY 2 DESC`;
    log(`filled in ${fillSeconds.toFixed(1)} s; ${(bytes / 2 ** 20).toFixed(1)} MiB on disk; looking up ${flags.lookups} random pixels`);
    const random = new Prng(1);
    const histogram = LatencyHistogram.create();
    let found = 0;
    for (let i = 0; i < flags.lookups; i++) {
      const x = random.int(flags.width);
      const y = random.int(flags.height);
      const t = process.hrtime.bigint();
      found += (await placementLog.lookupPixel("bench", x, y, flags.limit)).length;
      histogram.record(Number(process.hrtime.bigint() - t) / 1000);
    }
    await placementLog.close();
    const latency = summarizeMicros(histogram);
    const perMillion = bytes / (flags.placements / 1_000_000);
    const result = {
      scenario: "lookup",
      run,
      parameters: flags,
      headline: { lookupP99Ms: latency.p99Ms, lookupMaxMs: latency.maxMs, mibPerMillionPlacements: Math.round((perMillion / 2 ** 20) * 10) / 10 },
      latency,
      placementsFound: found,
      fillSeconds,
      logBytes: bytes,
      tables: tables.map((t) => ({ table: String(t.table), bytes: Number(t.bytes) })),
      notes: ["Indexes built after the fill (tighter than grown by inserts).", "Lookups sequential, through PlacementLog.lookupPixel on one connection, on a private PostgreSQL."],
    };
    mkdirSync(flags.out, { recursive: true });
    const file = join(flags.out, `lookup-${run.startedAt.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(`${JSON.stringify(result.headline)}\nwrote ${file}\n`);
  } finally {
    await sql.end({ timeout: 1 });
    await pg.stop();
  }
}
