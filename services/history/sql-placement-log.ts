import { decodeLogPixels, encodeLogPixels } from "./log-pixels-codec.js";
import { KIND_NUMBERS, PLACEMENT_LOG_SCHEMA, PLACEMENT_LOG_TABLES } from "./placement-log-schema.js";
import type {
  BatchPage,
  LogBatch,
  LogRun,
  ModerationActionRecord,
  NewModerationAction,
  Placement,
  PlacementKind,
  PlacementLog,
  RegionQuery,
  RollbackPlan,
  RollbackQuery,
  SeqGap,
} from "./placement-log.js";
import { regionAt } from "./region-at.js";
import { rollbackPlan } from "./rollback-plan.js";
import { num, type SqlRunner } from "./sql-runner.js";

/** Most batch rows one `batches` call reads; a page of many tiny batches stops here. */
const MAX_BATCH_ROWS = 20_000;

const KIND_OF_NUMBER: Record<number, PlacementKind> = { 1: "place", 2: "undo", 3: "rollback" };

/**
 * The placement log in SQL (schema in placement-log-schema.ts), on any SqlRunner: PostgreSQL
 * through `postgres` (postgres-placement-log.ts) or PGlite (pglite-placement-log.ts).
 */
export class SqlPlacementLog implements PlacementLog {
  private readonly canvasIds = new Map<string, number>();
  private readonly authorIds = new Map<string, number>();

  private constructor(private readonly db: SqlRunner) {}

  /** Creates the tables if missing and returns the log. */
  static async open(db: SqlRunner): Promise<SqlPlacementLog> {
    await db.exec(PLACEMENT_LOG_SCHEMA);
    return new SqlPlacementLog(db);
  }

  async append(batches: readonly LogBatch[]): Promise<number> {
    if (batches.length === 0) return 0;
    const cols = { canvas: [] as number[], epoch: [] as number[], seq: [] as number[], time: [] as number[], kind: [] as number[], author: [] as string[], count: [] as number[], pixels: [] as string[], runAuthors: [] as string[], runCounts: [] as string[] };
    const px = { canvas: [] as number[], epoch: [] as number[], seq: [] as number[], x: [] as number[], y: [] as number[], color: [] as number[], prev: [] as number[], author: [] as number[] };
    for (const b of batches) {
      const canvas = await this.canvasId(b.canvasId);
      const runAuthors: number[] = [];
      for (const r of b.runs) runAuthors.push(await this.authorId(r.userId, r.name));
      const covered = b.runs.reduce((n, r) => n + r.pixelCount, 0);
      const rest = covered < b.pixels.length ? await this.authorId("", b.author) : 0;
      cols.canvas.push(canvas);
      cols.epoch.push(b.epoch);
      cols.seq.push(b.seq);
      cols.time.push(b.timeMs);
      cols.kind.push(KIND_NUMBERS[b.kind]);
      cols.author.push(b.author);
      cols.count.push(b.pixels.length);
      // Hex text: a bytea[] parameter is not serialised alike by both clients.
      cols.pixels.push(encodeLogPixels(b.pixels).toString("hex"));
      cols.runAuthors.push(`{${runAuthors.join(",")}}`);
      cols.runCounts.push(`{${b.runs.map((r) => r.pixelCount).join(",")}}`);
      // One row per distinct pixel: its last colour and author, the colour before its first write.
      const distinct = new Map<number, { x: number; y: number; color: number; prev: number; author: number }>();
      let run = 0;
      let left = b.runs[0]?.pixelCount ?? 0;
      b.pixels.forEach((p) => {
        while (run < b.runs.length && left === 0) left = b.runs[++run]?.pixelCount ?? 0;
        const author = run < b.runs.length ? runAuthors[run]! : rest;
        left -= 1;
        const key = p.y * 65536 + p.x;
        const seen = distinct.get(key);
        if (seen) {
          seen.color = p.color;
          seen.author = author;
        } else distinct.set(key, { x: p.x, y: p.y, color: p.color, prev: p.previousColor, author });
      });
      for (const d of distinct.values()) {
        px.canvas.push(canvas);
        px.epoch.push(b.epoch);
        px.seq.push(b.seq);
        px.x.push(d.x);
        px.y.push(d.y);
        px.color.push(d.color);
        px.prev.push(d.prev);
        px.author.push(d.author);
      }
    }
    const rows = await this.db.query<{ n: unknown }>(
      `WITH ins AS (
         INSERT INTO history_batches (canvas, epoch, seq, time_ms, kind, author, pixel_count, pixels, run_authors, run_counts)
         SELECT c, e, s, t, k, a, n, decode(p, 'hex'), ra::int[], rc::int[]
         FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::smallint[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[])
           AS u(c, e, s, t, k, a, n, p, ra, rc)
         ON CONFLICT DO NOTHING
         RETURNING canvas, epoch, seq
       ), pix AS (
         INSERT INTO history_placements (canvas, epoch, seq, x, y, color, previous_color, author)
         SELECT p.* FROM unnest($11::int[], $12::bigint[], $13::bigint[], $14::smallint[], $15::smallint[], $16::int[], $17::int[], $18::int[])
           AS p(canvas, epoch, seq, x, y, color, previous_color, author)
         JOIN ins USING (canvas, epoch, seq)
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM ins) AS n, (SELECT count(*) FROM pix) AS m`,
      [cols.canvas, cols.epoch, cols.seq, cols.time, cols.kind, cols.author, cols.count, cols.pixels, cols.runAuthors, cols.runCounts, px.canvas, px.epoch, px.seq, px.x, px.y, px.color, px.prev, px.author],
    );
    return num(rows[0]?.n);
  }

  async recordGap(gap: SeqGap): Promise<void> {
    const canvas = await this.canvasId(gap.canvasId);
    await this.db.query(
      "INSERT INTO history_gaps (canvas, epoch, from_seq, to_seq, recorded_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
      [canvas, gap.epoch, gap.fromSeq, gap.toSeq, Date.now()],
    );
  }

  async recordEpoch(canvasId: string, epoch: number, seenMs: number): Promise<void> {
    const canvas = await this.canvasId(canvasId);
    await this.db.query("INSERT INTO history_epochs (canvas, epoch, seen_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [canvas, epoch, seenMs]);
  }

  async lastArchived(canvasId: string): Promise<{ epoch: number; seq: number } | undefined> {
    const canvas = await this.canvasId(canvasId);
    const [row] = await this.db.query<{ epoch: unknown }>(
      `SELECT greatest(
         (SELECT max(epoch) FROM history_batches WHERE canvas = $1),
         (SELECT max(epoch) FROM history_gaps WHERE canvas = $1),
         (SELECT max(epoch) FROM history_epochs WHERE canvas = $1)) AS epoch`,
      [canvas],
    );
    if (row?.epoch === null || row?.epoch === undefined) return undefined;
    const epoch = num(row.epoch);
    return { epoch, seq: await this.archivedSeq(canvasId, epoch) };
  }

  async archivedSeq(canvasId: string, epoch: number): Promise<number> {
    const canvas = await this.canvasId(canvasId);
    const [row] = await this.db.query<{ seq: unknown }>(
      `SELECT greatest(
         (SELECT max(seq) FROM history_batches WHERE canvas = $1 AND epoch = $2),
         (SELECT max(to_seq) FROM history_gaps WHERE canvas = $1 AND epoch = $2), 0) AS seq`,
      [canvas, epoch],
    );
    return num(row?.seq);
  }

  async lookupPixel(canvasId: string, x: number, y: number, limit: number): Promise<Placement[]> {
    const canvas = await this.canvasId(canvasId);
    // One row more than asked: the newer neighbour of each row tells whether it was reverted.
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT p.epoch, p.seq, b.time_ms, a.user_id, a.name, p.color, p.previous_color, b.kind
       FROM history_placements p
       JOIN history_batches b ON b.canvas = p.canvas AND b.epoch = p.epoch AND b.seq = p.seq
       JOIN history_authors a ON a.id = p.author
       WHERE p.canvas = $1 AND p.x = $2 AND p.y = $3
       ORDER BY p.epoch DESC, p.seq DESC LIMIT $4`,
      [canvas, x, y, limit],
    );
    return rows.map((r, i) => {
      const newer = rows[i - 1];
      const reverted = newer !== undefined && num(newer.epoch) === num(r.epoch) && num(newer.kind) !== KIND_NUMBERS.place;
      return {
        canvasId,
        epoch: num(r.epoch),
        seq: num(r.seq),
        timeMs: num(r.time_ms),
        userId: String(r.user_id),
        name: String(r.name),
        x,
        y,
        color: num(r.color),
        previousColor: num(r.previous_color),
        kind: KIND_OF_NUMBER[num(r.kind)] ?? "place",
        revertedBySeq: reverted ? num(newer.seq) : 0,
      };
    });
  }

  async batches(canvasId: string, epoch: number, afterSeq: number, maxPixels: number): Promise<BatchPage> {
    const canvas = await this.canvasId(canvasId);
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT seq, time_ms, kind, author, pixel_count, pixels, run_authors, run_counts FROM history_batches
       WHERE canvas = $1 AND epoch = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [canvas, epoch, afterSeq, Math.max(1, Math.min(MAX_BATCH_ROWS, maxPixels))],
    );
    let total = 0;
    let keep = 0;
    while (keep < rows.length && (keep === 0 || total < maxPixels)) total += num(rows[keep++]!.pixel_count);
    const page = rows.slice(0, keep);
    const authorIds = [...new Set(page.flatMap((r) => (r.run_authors as unknown[]).map(num)))];
    const authors = new Map<number, { userId: string; name: string }>();
    if (authorIds.length > 0) {
      for (const a of await this.db.query<Record<string, unknown>>("SELECT id, user_id, name FROM history_authors WHERE id = ANY($1::int[])", [authorIds])) {
        authors.set(num(a.id), { userId: String(a.user_id), name: String(a.name) });
      }
    }
    const batches: LogBatch[] = page.map((r) => {
      const counts = (r.run_counts as unknown[]).map(num);
      const runs: LogRun[] = (r.run_authors as unknown[]).map((id, i) => ({ ...(authors.get(num(id)) ?? { userId: "", name: "" }), pixelCount: counts[i]! }));
      return {
        canvasId,
        epoch,
        seq: num(r.seq),
        timeMs: num(r.time_ms),
        kind: KIND_OF_NUMBER[num(r.kind)] ?? "place",
        author: String(r.author),
        pixels: decodeLogPixels(r.pixels as Uint8Array),
        runs,
      };
    });
    const upTo = batches.length > 0 ? batches[batches.length - 1]!.seq : Number.MAX_SAFE_INTEGER;
    const gaps = (
      await this.db.query<Record<string, unknown>>(
        "SELECT from_seq, to_seq FROM history_gaps WHERE canvas = $1 AND epoch = $2 AND to_seq > $3 AND from_seq <= $4 ORDER BY from_seq",
        [canvas, epoch, afterSeq, upTo],
      )
    ).map((g) => ({ canvasId, epoch, fromSeq: num(g.from_seq), toSeq: num(g.to_seq) }));
    const [ends] = await this.db.query<Record<string, unknown>>(
      `SELECT f.seq AS first_seq, f.time_ms AS first_time, l.seq AS last_seq, l.time_ms AS last_time
       FROM (SELECT seq, time_ms FROM history_batches WHERE canvas = $1 AND epoch = $2 ORDER BY seq LIMIT 1) f,
            (SELECT seq, time_ms FROM history_batches WHERE canvas = $1 AND epoch = $2 ORDER BY seq DESC LIMIT 1) l`,
      [canvas, epoch],
    );
    const archivedSeq = await this.archivedSeq(canvasId, epoch);
    return {
      batches,
      gaps,
      archivedSeq,
      firstSeq: num(ends?.first_seq),
      firstTimeMs: num(ends?.first_time),
      archivedTimeMs: ends !== undefined && num(ends.last_seq) === archivedSeq ? num(ends.last_time) : 0,
    };
  }

  async seqAtTime(canvasId: string, epoch: number, timeMs: number): Promise<number> {
    const canvas = await this.canvasId(canvasId);
    const [row] = await this.db.query<{ seq: unknown }>(
      "SELECT max(seq) AS seq FROM history_batches WHERE canvas = $1 AND epoch = $2 AND time_ms <= $3",
      [canvas, epoch, timeMs],
    );
    return num(row?.seq);
  }

  async regionAt(query: RegionQuery): Promise<Uint8Array> {
    const canvas = await this.canvasId(query.canvasId);
    return regionAt(this.db, canvas, query, (afterSeq, maxPixels) => this.batches(query.canvasId, query.epoch, afterSeq, maxPixels));
  }

  async rollbackPlan(query: RollbackQuery): Promise<RollbackPlan> {
    return rollbackPlan(this.db, await this.canvasId(query.canvasId), query);
  }

  async recordModeration(action: NewModerationAction): Promise<ModerationActionRecord> {
    const timeMs = Date.now();
    const [row] = await this.db.query<{ id: unknown }>(
      `INSERT INTO history_moderation (time_ms, admin, kind, canvas, filter, target_user_id, reason, seqs, epoch, pixels_restored, pixels_skipped)
       VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8::bigint[], $9, $10, $11) RETURNING id`,
      [timeMs, action.admin, action.kind, action.canvasId, action.filter === undefined ? null : JSON.stringify(action.filter), action.targetUserId, action.reason, action.seqs, action.epoch, action.pixelsRestored, action.pixelsSkipped],
    );
    return { ...action, id: num(row?.id), timeMs };
  }

  async listModeration(query: { beforeId: number; limit: number; canvasId?: string }): Promise<ModerationActionRecord[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT id, time_ms, admin, kind, canvas, filter::text AS filter, target_user_id, reason, seqs, epoch, pixels_restored, pixels_skipped
       FROM history_moderation WHERE ($1::bigint = 0 OR id < $1) AND ($2::text IS NULL OR canvas = $2)
       ORDER BY id DESC LIMIT $3`,
      [query.beforeId, query.canvasId ?? null, query.limit],
    );
    return rows.map((r) => ({
      id: num(r.id),
      timeMs: num(r.time_ms),
      admin: String(r.admin),
      kind: r.kind as ModerationActionRecord["kind"],
      canvasId: String(r.canvas),
      ...(r.filter === null ? {} : { filter: JSON.parse(String(r.filter)) as ModerationActionRecord["filter"] }),
      targetUserId: String(r.target_user_id),
      reason: String(r.reason),
      seqs: (r.seqs as unknown[]).map(num),
      epoch: num(r.epoch),
      pixelsRestored: num(r.pixels_restored),
      pixelsSkipped: num(r.pixels_skipped),
    }));
  }

  async sizeOnDisk(): Promise<number> {
    const [row] = await this.db.query<{ bytes: unknown }>(
      `SELECT sum(pg_total_relation_size(t::regclass)) AS bytes FROM unnest($1::text[]) AS t`,
      [[...PLACEMENT_LOG_TABLES]],
    );
    return num(row?.bytes);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** The canvas's number in history_canvases, created on first use. */
  private async canvasId(name: string): Promise<number> {
    let id = this.canvasIds.get(name);
    if (id === undefined) {
      const [row] = await this.db.query<{ id: unknown }>(
        "INSERT INTO history_canvases (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        [name],
      );
      id = num(row?.id);
      this.canvasIds.set(name, id);
    }
    return id;
  }

  /** The (user id, display name) pair's number in history_authors, created on first use. */
  private async authorId(userId: string, name: string): Promise<number> {
    const key = `${userId}\u0000${name}`;
    let id = this.authorIds.get(key);
    if (id === undefined) {
      const [row] = await this.db.query<{ id: unknown }>(
        "INSERT INTO history_authors (user_id, name) VALUES ($1, $2) ON CONFLICT (user_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        [userId, name],
      );
      id = num(row?.id);
      this.authorIds.set(key, id);
    }
    return id;
  }
}
