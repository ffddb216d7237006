/**
 * The placement log's tables, the same on PostgreSQL and PGlite; created if missing at open.
 * - history_canvases / history_authors: small dictionaries, so each placement row carries two
 *   integers instead of the canvas name, user id and display name.
 * - history_batches: one row per archived batch, keyed (canvas, epoch, seq): the key that makes
 *   appending idempotent. `pixels` holds every pixel of the batch in order with its previous colour
 *   (log-pixels-codec.ts), `run_authors`/`run_counts` its authors runs: what GetPlacements pages
 *   through and what time travel replays.
 * - history_placements: one row per distinct pixel of a batch (a pixel placed twice in one batch
 *   counts once: its last colour, the colour before the batch and its last author), for lookup by
 *   pixel and rollback by user or area. Its rows are written in the same statement as their batch
 *   row, only for batch rows actually inserted, so it needs no unique key of its own.
 * - history_gaps: seqs the log will never hold; history_epochs: epochs seen (reset, data loss);
 *   history_moderation: the audit trail of moderation actions.
 */
export const PLACEMENT_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS history_canvases (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS history_authors (
  id serial PRIMARY KEY,
  user_id text NOT NULL,
  name text NOT NULL,
  UNIQUE (user_id, name)
);
CREATE TABLE IF NOT EXISTS history_batches (
  canvas int NOT NULL,
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  time_ms bigint NOT NULL,
  kind smallint NOT NULL,
  author text NOT NULL,
  pixel_count int NOT NULL,
  pixels bytea NOT NULL,
  run_authors int[] NOT NULL,
  run_counts int[] NOT NULL,
  PRIMARY KEY (canvas, epoch, seq)
);
CREATE INDEX IF NOT EXISTS history_batches_time ON history_batches (canvas, epoch, time_ms);
CREATE TABLE IF NOT EXISTS history_placements (
  canvas int NOT NULL,
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  x smallint NOT NULL,
  y smallint NOT NULL,
  color int NOT NULL,
  previous_color int NOT NULL,
  author int NOT NULL
);
CREATE INDEX IF NOT EXISTS history_placements_pixel ON history_placements (canvas, x, y, epoch DESC, seq DESC);
CREATE INDEX IF NOT EXISTS history_placements_author ON history_placements (canvas, epoch, author, seq);
CREATE TABLE IF NOT EXISTS history_gaps (
  canvas int NOT NULL,
  epoch bigint NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  recorded_ms bigint NOT NULL,
  PRIMARY KEY (canvas, epoch, from_seq)
);
CREATE TABLE IF NOT EXISTS history_epochs (
  canvas int NOT NULL,
  epoch bigint NOT NULL,
  seen_ms bigint NOT NULL,
  PRIMARY KEY (canvas, epoch)
);
CREATE TABLE IF NOT EXISTS history_moderation (
  id bigserial PRIMARY KEY,
  time_ms bigint NOT NULL,
  admin text NOT NULL,
  kind text NOT NULL,
  canvas text NOT NULL,
  filter jsonb,
  target_user_id text NOT NULL,
  reason text NOT NULL,
  seqs bigint[] NOT NULL,
  epoch bigint NOT NULL,
  pixels_restored bigint NOT NULL,
  pixels_skipped bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS history_moderation_canvas ON history_moderation (canvas, id);
`;

/** The tables whose size (with indexes and TOAST) is the log's size on disk. */
export const PLACEMENT_LOG_TABLES = ["history_canvases", "history_authors", "history_batches", "history_placements", "history_gaps", "history_epochs", "history_moderation"] as const;

/** PlacementKind as stored in history_batches.kind. */
export const KIND_NUMBERS = { place: 1, undo: 2, rollback: 3 } as const;
