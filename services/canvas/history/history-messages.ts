import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ModerationActionKind,
  PlacementKind,
  type ArchivedBatchSchema,
  type BanSchema,
  type ModerationActionSchema,
  type PlacementSchema,
  type Rect,
  type RollbackFilter as RollbackFilterMessage,
  type RollbackFilterSchema,
} from "../../../gen/pixel/v1/history_pb.js";
import type { LogBatch, ModerationActionRecord, ModerationKind, Placement, PlacementKind as LogKind, RollbackFilter } from "../../history/placement-log.js";
import type { BanRecord } from "./ban-list.js";

/** Longest reason an admin may give (history.proto). */
export const MAX_REASON_LENGTH = 200;
/** Longest user id (canvas.proto Author.user_id). */
export const MAX_USER_ID_LENGTH = 64;

const KINDS: Record<LogKind, PlacementKind> = { place: PlacementKind.PLACE, undo: PlacementKind.UNDO, rollback: PlacementKind.ROLLBACK };
const ACTIONS: Record<ModerationKind, ModerationActionKind> = {
  rollback: ModerationActionKind.ROLLBACK,
  ban: ModerationActionKind.BAN,
  unban: ModerationActionKind.UNBAN,
};

/** A uint64/int64 from the wire as a safe integer; InvalidArgument naming the field otherwise. */
export function safeNumber(value: bigint, field: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new ConnectError(`${field} ${value} is out of range`, Code.InvalidArgument);
  return n;
}

/** A reason of at most MAX_REASON_LENGTH characters; InvalidArgument otherwise. */
export function checkReason(reason: string): string {
  if (reason.length > MAX_REASON_LENGTH) throw new ConnectError(`reason is longer than ${MAX_REASON_LENGTH} characters`, Code.InvalidArgument);
  return reason;
}

/** A user id of 1 to MAX_USER_ID_LENGTH characters; InvalidArgument otherwise. */
export function checkUserId(userId: string): string {
  if (userId.length < 1 || userId.length > MAX_USER_ID_LENGTH) throw new ConnectError(`user_id must be 1 to ${MAX_USER_ID_LENGTH} characters`, Code.InvalidArgument);
  return userId;
}

/** The wire filter as the log's, checked: at least one condition, a non-empty rectangle, ranges in order. */
export function filterOf(message: RollbackFilterMessage | undefined): RollbackFilter {
  if (message === undefined) throw new ConnectError("filter is required", Code.InvalidArgument);
  const filter: RollbackFilter = {};
  if (message.rect !== undefined) {
    if (message.rect.width < 1 || message.rect.height < 1) throw new ConnectError("filter.rect width and height must be at least 1", Code.InvalidArgument);
    filter.rect = rectOf(message.rect);
  }
  if (message.userId !== undefined) filter.userId = checkUserId(message.userId);
  if (message.fromTimeUnixMs !== undefined) filter.fromTimeMs = safeNumber(message.fromTimeUnixMs, "filter.from_time_unix_ms");
  if (message.toTimeUnixMs !== undefined) filter.toTimeMs = safeNumber(message.toTimeUnixMs, "filter.to_time_unix_ms");
  if (message.fromSeq !== undefined) filter.fromSeq = safeNumber(message.fromSeq, "filter.from_seq");
  if (message.toSeq !== undefined) filter.toSeq = safeNumber(message.toSeq, "filter.to_seq");
  if (Object.keys(filter).length === 0) throw new ConnectError("filter must set at least one condition (rect, user_id, a time or a seq bound)", Code.InvalidArgument);
  if (filter.fromTimeMs !== undefined && filter.toTimeMs !== undefined && filter.fromTimeMs > filter.toTimeMs) throw new ConnectError("filter time range is empty (from after to)", Code.InvalidArgument);
  if (filter.fromSeq !== undefined && filter.toSeq !== undefined && filter.fromSeq > filter.toSeq) throw new ConnectError("filter seq range is empty (from after to)", Code.InvalidArgument);
  return filter;
}

/** The log's filter on the wire. */
export function filterMessage(filter: RollbackFilter): MessageInitShape<typeof RollbackFilterSchema> {
  return {
    rect: filter.rect,
    userId: filter.userId,
    fromTimeUnixMs: filter.fromTimeMs === undefined ? undefined : BigInt(filter.fromTimeMs),
    toTimeUnixMs: filter.toTimeMs === undefined ? undefined : BigInt(filter.toTimeMs),
    fromSeq: filter.fromSeq === undefined ? undefined : BigInt(filter.fromSeq),
    toSeq: filter.toSeq === undefined ? undefined : BigInt(filter.toSeq),
  };
}

export function rectOf(rect: Rect): { x: number; y: number; width: number; height: number } {
  return { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
}

export function placementMessage(p: Placement): MessageInitShape<typeof PlacementSchema> {
  return {
    seq: BigInt(p.seq),
    epoch: BigInt(p.epoch),
    timeUnixMs: BigInt(p.timeMs),
    userId: p.userId,
    name: p.name,
    x: p.x,
    y: p.y,
    color: p.color,
    previousColor: p.previousColor,
    kind: KINDS[p.kind],
    revertedBySeq: BigInt(p.revertedBySeq),
  };
}

/** An archived batch as it was broadcast, with its previous colours (3 bytes per pixel) and kind. */
export function archivedBatchMessage(b: LogBatch): MessageInitShape<typeof ArchivedBatchSchema> {
  const previous = new Uint8Array(b.pixels.length * 3);
  b.pixels.forEach((p, i) => {
    previous[i * 3] = (p.previousColor >>> 16) & 0xff;
    previous[i * 3 + 1] = (p.previousColor >>> 8) & 0xff;
    previous[i * 3 + 2] = p.previousColor & 0xff;
  });
  return {
    batch: {
      canvasId: b.canvasId,
      seq: BigInt(b.seq),
      epoch: BigInt(b.epoch),
      timeUnixMs: BigInt(b.timeMs),
      author: b.author,
      pixels: b.pixels.map((p) => ({ x: p.x, y: p.y, color: p.color })),
      authors: b.runs.map((r) => ({ userId: r.userId, name: r.name, pixelCount: r.pixelCount })),
    },
    previousColors: previous,
    kind: KINDS[b.kind],
  };
}

export function banMessage(b: BanRecord): MessageInitShape<typeof BanSchema> {
  return {
    userId: b.userId,
    reason: b.reason,
    bannedBy: b.bannedBy,
    createdUnixMs: BigInt(b.createdMs),
    expiresUnixMs: b.expiresMs === undefined ? undefined : BigInt(b.expiresMs),
  };
}

export function moderationMessage(a: ModerationActionRecord): MessageInitShape<typeof ModerationActionSchema> {
  return {
    id: BigInt(a.id),
    timeUnixMs: BigInt(a.timeMs),
    admin: a.admin,
    kind: ACTIONS[a.kind],
    canvasId: a.canvasId,
    filter: a.filter === undefined ? undefined : filterMessage(a.filter),
    targetUserId: a.targetUserId,
    reason: a.reason,
    seqs: a.seqs.map(BigInt),
    epoch: BigInt(a.epoch),
    pixelsRestored: BigInt(a.pixelsRestored),
    pixelsSkipped: BigInt(a.pixelsSkipped),
  };
}
