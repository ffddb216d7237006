import type { RollbackFilter, RollbackPlan, RollbackQuery } from "./placement-log.js";
import { num, type SqlRunner } from "./sql-runner.js";

/** Most users listed in RollbackPlan.topUsers. */
const TOP_USERS = 20;

/** Throws RangeError (InvalidArgument) for a filter without any condition or with an empty rectangle. */
export function checkRollbackFilter(filter: RollbackFilter): void {
  const set = Object.values(filter).filter((v) => v !== undefined);
  if (set.length === 0) throw new RangeError("a rollback filter needs at least one condition: rect, user_id, a time range or a seq range");
  if (filter.rect !== undefined && (filter.rect.width < 1 || filter.rect.height < 1)) throw new RangeError("a rollback rectangle needs a width and height of at least 1");
}

/**
 * The SQL condition "placement row `alias` matches the filter", with its parameters appended to
 * `params`. A time range becomes the seq range of the batches stored in it (seq order is time
 * order within an epoch: the store stamps batches as it sequences them).
 */
async function matchCondition(db: SqlRunner, canvas: number, q: RollbackQuery, params: unknown[]): Promise<(alias: string) => string> {
  const { filter } = q;
  let lo = filter.fromSeq ?? 1;
  let hi = Math.min(filter.toSeq ?? q.atSeq, q.atSeq);
  if (filter.fromTimeMs !== undefined) {
    const [row] = await db.query<{ s: unknown }>("SELECT min(seq) AS s FROM history_batches WHERE canvas = $1 AND epoch = $2 AND time_ms >= $3", [canvas, q.epoch, filter.fromTimeMs]);
    lo = Math.max(lo, row?.s === null || row?.s === undefined ? Number.MAX_SAFE_INTEGER : num(row.s));
  }
  if (filter.toTimeMs !== undefined) {
    const [row] = await db.query<{ s: unknown }>("SELECT max(seq) AS s FROM history_batches WHERE canvas = $1 AND epoch = $2 AND time_ms <= $3", [canvas, q.epoch, filter.toTimeMs]);
    hi = Math.min(hi, num(row?.s));
  }
  const parts: ((a: string) => string)[] = [];
  const param = (value: unknown, cast: string) => `$${params.push(value)}::${cast}`;
  const loP = param(lo, "bigint");
  const hiP = param(hi, "bigint");
  parts.push((a) => `${a}.seq BETWEEN ${loP} AND ${hiP}`);
  if (filter.rect !== undefined) {
    const { x, y, width, height } = filter.rect;
    const [x0, x1, y0, y1] = [param(x, "int"), param(x + width - 1, "int"), param(y, "int"), param(y + height - 1, "int")];
    parts.push((a) => `${a}.x BETWEEN ${x0} AND ${x1} AND ${a}.y BETWEEN ${y0} AND ${y1}`);
  }
  if (filter.userId !== undefined) {
    const ids = (await db.query<{ id: unknown }>("SELECT id FROM history_authors WHERE user_id = $1", [filter.userId])).map((r) => num(r.id));
    const idsP = param(ids, "int[]");
    parts.push((a) => `${a}.author = ANY(${idsP})`);
  }
  return (alias) => `(${parts.map((p) => p(alias)).join(" AND ")})`;
}

/**
 * Refreshes the placement table's planner statistics when a tenth of it changed since they were
 * taken. A rollback usually follows a burst of vandalism: planned on statistics from before the
 * burst, the join below became a nested loop over sequential scans (quadratic; a 100,000-placement
 * plan ran for minutes where it takes under a second). ANALYZE samples a fixed number of rows.
 */
async function analyzeIfStale(db: SqlRunner): Promise<void> {
  const [row] = await db.query<{ stale: unknown }>(
    "SELECT (n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1000)) AS stale FROM pg_stat_user_tables WHERE relname = 'history_placements'",
  );
  if (row?.stale === true || row?.stale === "t") await db.query("ANALYZE history_placements");
}

/** PlacementLog.rollbackPlan in SQL (see its doc): the trailing run of matching placements per pixel. */
export async function rollbackPlan(db: SqlRunner, canvas: number, q: RollbackQuery): Promise<RollbackPlan> {
  checkRollbackFilter(q.filter);
  await analyzeIfStale(db);
  const params: unknown[] = [canvas, q.epoch, q.atSeq];
  const match = await matchCondition(db, canvas, q, params);
  const base = (a: string) => `${a}.canvas = $1 AND ${a}.epoch = $2 AND ${a}.seq <= $3`;
  // Index scans only: whatever the statistics say, the join stays index lookups per pixel and can
  // never become a nested loop over sequential scans (see analyzeIfStale).
  const pixels = await db.transaction(async (tx) => {
    await tx.query("SET LOCAL enable_seqscan = off");
    return tx.query<Record<string, unknown>>(
      `WITH px AS (
         SELECT DISTINCT p.x, p.y FROM history_placements p WHERE ${base("p")} AND ${match("p")}
       ), allp AS (
         SELECT o.x, o.y, o.seq, o.color, o.previous_color, ${match("o")} AS hit
         FROM px JOIN history_placements o ON o.canvas = $1 AND o.x = px.x AND o.y = px.y AND o.epoch = $2 AND o.seq <= $3
       ), w AS (
         -- One pass per pixel (window aggregates): the last matching seq and the last other seq.
         SELECT x, y, seq, color, previous_color, hit,
           max(seq) FILTER (WHERE hit) OVER (PARTITION BY x, y) AS lm,
           coalesce(max(seq) FILTER (WHERE NOT hit) OVER (PARTITION BY x, y), 0) AS lo
         FROM allp
       )
       SELECT x, y, lm, lo,
         (array_agg(previous_color ORDER BY seq) FILTER (WHERE hit AND seq > lo))[1] AS restore,
         (array_agg(color ORDER BY seq DESC) FILTER (WHERE hit))[1] AS expected
       FROM w
       GROUP BY x, y, lm, lo
       ORDER BY y, x`,
      params,
    );
  });
  const counts = await db.query<Record<string, unknown>>(
    `SELECT au.user_id, (array_agg(au.name ORDER BY p.seq DESC))[1] AS name, count(*) AS n
     FROM history_placements p JOIN history_authors au ON au.id = p.author
     WHERE ${base("p")} AND ${match("p")}
     GROUP BY au.user_id ORDER BY n DESC, au.user_id`,
    params,
  );
  let skipped = 0;
  const restore: RollbackPlan["restore"] = [];
  for (const r of pixels) {
    const lastMatch = num(r.lm);
    if (num(r.lo) > lastMatch) skipped += 1;
    else if (num(r.restore) !== num(r.expected)) restore.push({ x: num(r.x), y: num(r.y), color: num(r.restore), expectedColor: num(r.expected), lastSeq: lastMatch });
  }
  return {
    epoch: q.epoch,
    atSeq: q.atSeq,
    placements: counts.reduce((n, c) => n + num(c.n), 0),
    restore,
    skipped,
    topUsers: counts.slice(0, TOP_USERS).map((c) => ({ userId: String(c.user_id), name: String(c.name), placements: num(c.n) })),
  };
}
