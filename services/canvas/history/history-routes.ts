import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { encode } from "fast-png";
import {
  HistoryService,
  type BanUserRequest,
  type BanUserResponseSchema,
  type ExportCanvasRequest,
  type ExportCanvasResponseSchema,
  type GetPlacementsRequest,
  type GetPlacementsResponseSchema,
  type ListBansResponseSchema,
  type ListModerationActionsRequest,
  type ListModerationActionsResponseSchema,
  type LookupPixelRequest,
  type LookupPixelResponseSchema,
  type PreviewRollbackRequest,
  type PreviewRollbackResponseSchema,
  type RollbackRequest,
  type RollbackResponseSchema,
  type UndoPlacementRequest,
  type UndoPlacementResponseSchema,
  type UnbanUserRequest,
  type UnbanUserResponseSchema,
} from "../../../gen/pixel/v1/history_pb.js";
import { resolveCanvasId } from "../../shared/config.js";
import type { Logger } from "../../shared/logger.js";
import { sessionTokenOf } from "../../shared/session-cookie.js";
import type { SessionTokens } from "../../shared/session-token.js";
import type { HistorySource } from "../../history/history-source.js";
import type { PlacementLog } from "../../history/placement-log.js";
import { ADMIN_NAME } from "../admin-access.js";
import type { CanvasCatalog } from "../canvas-catalog.js";
import type { CanvasInfo } from "../canvas-registry.js";
import type { CanvasStore } from "../canvas-store.js";
import { DEFAULT_BACKGROUND } from "../tile-codec.js";
import type { BanList } from "./ban-list.js";
import { checkRect, fromLog, headOf, regionAt, requireLog } from "./canvas-at.js";
import { archivedBatchMessage, banMessage, checkReason, checkUserId, filterOf, moderationMessage, placementMessage, rectOf, safeNumber } from "./history-messages.js";
import { UNDO_LIMIT_WINDOW_MS, type UndoSettings } from "./history-settings.js";
import { applyRollback, planRollback } from "./rollback.js";
import { planUndo } from "./undo-plan.js";

/** Lookup page size: default and most. */
const LOOKUP_LIMIT = { fallback: 10, max: 100 } as const;
/** Audit page size: default and most. */
const AUDIT_LIMIT = { fallback: 50, max: 500 } as const;
/** GetPlacements page size in pixels: default and most. */
const PLACEMENTS_PIXELS = { fallback: 100_000, max: 1_000_000 } as const;

/** What the HistoryService needs; all injected. */
export interface HistoryRoutesDeps {
  store: CanvasStore;
  catalog: CanvasCatalog;
  /** The store's retained history with previous colours (undo reads it, not the log). */
  source: HistorySource;
  /** The durable placement log; unset (Redis without HISTORY_DATABASE_URL) makes the calls that need it FailedPrecondition. */
  log?: PlacementLog;
  bans: BanList;
  /** Verifies the caller's session for UndoPlacement. */
  tokens: SessionTokens;
  undo: UndoSettings;
  logger: Logger;
}

/** An RGB image as an 8-bit RGB PNG. */
export function encodeRgbPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  return encode({ width, height, data: pixels, channels: 3, depth: 8 });
}

/**
 * The pixel.v1.HistoryService implementation: lookup, undo, moderation (rollback, bans, audit),
 * timelapse paging and PNG export. Admin RPCs are guarded (and the admin named, ADMIN_NAME) by
 * the adminAccess interceptor; every moderation action is recorded in the log's audit trail.
 */
export class HistoryRoutes implements ServiceImpl<typeof HistoryService> {
  constructor(private readonly deps: HistoryRoutesDeps) {}

  async lookupPixel(req: LookupPixelRequest): Promise<MessageInitShape<typeof LookupPixelResponseSchema>> {
    const canvas = await this.canvas(req.canvasId);
    if (req.x >= canvas.width || req.y >= canvas.height) throw new ConnectError(`pixel (${req.x}, ${req.y}) is outside canvas "${canvas.name}" (${canvas.width}x${canvas.height})`, Code.OutOfRange);
    const log = requireLog(this.deps.log);
    const limit = pageSize(req.limit, LOOKUP_LIMIT);
    const head = await headOf(this.deps.store, canvas.name);
    const [found, archived] = await fromLog(() => Promise.all([log.lookupPixel(canvas.name, req.x, req.y, limit + 1), log.archivedSeq(canvas.name, head.epoch)]));
    return { placements: found.slice(0, limit).map(placementMessage), epoch: BigInt(head.epoch), archivedSeq: BigInt(archived), more: found.length > limit };
  }

  async undoPlacement(req: UndoPlacementRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof UndoPlacementResponseSchema>> {
    const canvas = await this.canvas(req.canvasId);
    const token = sessionTokenOf(ctx.requestHeader);
    const session = token === undefined ? undefined : await this.deps.tokens.verify(token);
    if (session === undefined) throw new ConnectError("UndoPlacement needs your session: send the pp_session cookie (or authorization: Bearer <session token>)", Code.Unauthenticated);
    const { windowMs, perMinute } = this.deps.undo;
    if (windowMs === 0) throw new ConnectError("undo is turned off on this deployment (UNDO_WINDOW_MS=0)", Code.FailedPrecondition);
    const plan = await planUndo(this.deps.source, canvas.name, session.userId, Date.now(), windowMs);
    const done = await this.deps.store.restore(canvas.name, plan.writes, {
      kind: "undo",
      author: plan.name,
      by: { userId: session.userId, name: plan.name },
      limit: { userId: session.userId, perWindow: perMinute, windowMs: UNDO_LIMIT_WINDOW_MS },
    });
    if (done.retryAfterMs > 0) throw new ConnectError(`at most ${perMinute} undos a minute on this canvas; try again in ${done.retryAfterMs} ms`, Code.ResourceExhausted);
    if (done.restored === 0) throw new ConnectError(`every pixel of your last placement (seq ${plan.seq}) was painted over just now, so there is nothing to undo`, Code.FailedPrecondition);
    return { undoneSeq: BigInt(plan.seq), seq: BigInt(done.seq), epoch: BigInt(done.epoch), pixelsRestored: done.restored, pixelsSkipped: plan.paintedOver + done.skipped };
  }

  async previewRollback(req: PreviewRollbackRequest): Promise<MessageInitShape<typeof PreviewRollbackResponseSchema>> {
    const canvas = await this.canvas(req.canvasId);
    const filter = filterOf(req.filter);
    const plan = await planRollback(this.deps.store, requireLog(this.deps.log), canvas.name, filter);
    return {
      placements: BigInt(plan.placements),
      pixelsToRestore: BigInt(plan.restore.length),
      pixelsSkipped: BigInt(plan.skipped),
      epoch: BigInt(plan.epoch),
      atSeq: BigInt(plan.atSeq),
      topUsers: plan.topUsers.map((u) => ({ userId: u.userId, name: u.name, placements: BigInt(u.placements) })),
    };
  }

  async rollback(req: RollbackRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof RollbackResponseSchema>> {
    const canvas = await this.canvas(req.canvasId);
    const filter = filterOf(req.filter);
    const reason = checkReason(req.reason);
    const log = requireLog(this.deps.log);
    const plan = await planRollback(this.deps.store, log, canvas.name, filter);
    const done = await applyRollback(this.deps.store, canvas.name, plan);
    const action = await fromLog(() =>
      log.recordModeration({
        admin: ctx.values.get(ADMIN_NAME),
        kind: "rollback",
        canvasId: canvas.name,
        filter,
        targetUserId: filter.userId ?? "",
        reason,
        seqs: done.seqs,
        epoch: done.epoch,
        pixelsRestored: done.restored,
        pixelsSkipped: done.skipped,
      }),
    );
    this.deps.logger.warn({ canvasId: canvas.name, filter, admin: action.admin, seqs: done.seqs, restored: done.restored, skipped: done.skipped }, "rollback by an admin");
    return { seqs: done.seqs.map(BigInt), epoch: BigInt(done.epoch), pixelsRestored: BigInt(done.restored), pixelsSkipped: BigInt(done.skipped), actionId: BigInt(action.id) };
  }

  async banUser(req: BanUserRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof BanUserResponseSchema>> {
    const userId = checkUserId(req.userId);
    const reason = checkReason(req.reason);
    const durationMs = safeNumber(req.durationMs, "duration_ms");
    const now = Date.now();
    const ban = { userId, reason, bannedBy: ctx.values.get(ADMIN_NAME), createdMs: now, ...(durationMs > 0 ? { expiresMs: now + durationMs } : {}) };
    // Audited first: a ban that cannot be audited is not made.
    const action = await this.audit({ admin: ban.bannedBy, kind: "ban", targetUserId: userId, reason });
    await this.deps.bans.ban(ban);
    return { ban: banMessage(ban), actionId: BigInt(action) };
  }

  async unbanUser(req: UnbanUserRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof UnbanUserResponseSchema>> {
    const userId = checkUserId(req.userId);
    const reason = checkReason(req.reason);
    const action = await this.audit({ admin: ctx.values.get(ADMIN_NAME), kind: "unban", targetUserId: userId, reason });
    const wasBanned = await this.deps.bans.unban(userId);
    return { wasBanned, actionId: BigInt(action) };
  }

  async listBans(): Promise<MessageInitShape<typeof ListBansResponseSchema>> {
    return { bans: (await this.deps.bans.list()).map(banMessage) };
  }

  async listModerationActions(req: ListModerationActionsRequest): Promise<MessageInitShape<typeof ListModerationActionsResponseSchema>> {
    const log = requireLog(this.deps.log);
    const limit = pageSize(req.limit, AUDIT_LIMIT);
    const canvasId = req.canvasId === "" ? undefined : resolveCanvasId(req.canvasId);
    const beforeId = safeNumber(req.beforeId, "before_id");
    const actions = await fromLog(() => log.listModeration({ beforeId, limit: limit + 1, ...(canvasId === undefined ? {} : { canvasId }) }));
    const page = actions.slice(0, limit);
    return { actions: page.map(moderationMessage), nextBeforeId: actions.length > limit ? BigInt(page[page.length - 1]!.id) : 0n };
  }

  async getPlacements(req: GetPlacementsRequest): Promise<MessageInitShape<typeof GetPlacementsResponseSchema>> {
    const canvas = await this.canvas(req.canvasId);
    const log = requireLog(this.deps.log);
    const epoch = req.epoch === 0n ? (await headOf(this.deps.store, canvas.name)).epoch : safeNumber(req.epoch, "epoch");
    const afterSeq = safeNumber(req.afterSeq, "after_seq");
    const page = await fromLog(() => log.batches(canvas.name, epoch, afterSeq, pageSize(req.maxPixels, PLACEMENTS_PIXELS)));
    const last = page.batches[page.batches.length - 1];
    const lastGap = page.gaps.reduce((max, g) => Math.max(max, g.toSeq), 0);
    return {
      batches: page.batches.map(archivedBatchMessage),
      epoch: BigInt(epoch),
      width: canvas.width,
      height: canvas.height,
      backgroundColor: canvas.background ?? DEFAULT_BACKGROUND,
      nextAfterSeq: BigInt(Math.max(afterSeq, last?.seq ?? 0, last === undefined ? lastGap : 0)),
      archivedSeq: BigInt(page.archivedSeq),
      gaps: page.gaps.map((g) => ({ fromSeq: BigInt(g.fromSeq), toSeq: BigInt(g.toSeq) })),
      firstSeq: BigInt(page.firstSeq),
      firstTimeUnixMs: BigInt(page.firstTimeMs),
      archivedTimeUnixMs: BigInt(page.archivedTimeMs),
    };
  }

  async exportCanvas(req: ExportCanvasRequest): Promise<MessageInitShape<typeof ExportCanvasResponseSchema>> {
    const canvas = await this.canvas(req.canvasId);
    const rect = checkRect(canvas, req.rect === undefined ? undefined : rectOf(req.rect));
    const at = { seq: req.atSeq === undefined ? undefined : safeNumber(req.atSeq, "at_seq"), timeMs: req.atTimeUnixMs === undefined ? undefined : safeNumber(req.atTimeUnixMs, "at_time_unix_ms") };
    const region = await regionAt(this.deps.store, this.deps.log, canvas, rect, at);
    return { png: encodeRgbPng(region.pixels, rect.width, rect.height), width: rect.width, height: rect.height, seq: BigInt(region.seq), epoch: BigInt(region.epoch) };
  }

  /** Records a ban or unban in the audit trail (the log); returns the action id. */
  private async audit(action: { admin: string; kind: "ban" | "unban"; targetUserId: string; reason: string }): Promise<number> {
    const log = requireLog(this.deps.log);
    const record = await fromLog(() => log.recordModeration({ ...action, canvasId: "", seqs: [], epoch: 0, pixelsRestored: 0, pixelsSkipped: 0 }));
    this.deps.logger.warn({ admin: action.admin, kind: action.kind, userId: action.targetUserId, actionId: record.id }, "moderation action");
    return record.id;
  }

  private canvas(requested: string): Promise<CanvasInfo> {
    return this.deps.catalog.resolve(resolveCanvasId(requested));
  }
}

/** A requested page size: 0 means the fallback, anything above the most is capped. */
function pageSize(requested: number, bounds: { fallback: number; max: number }): number {
  return requested === 0 ? bounds.fallback : Math.min(requested, bounds.max);
}

/** Registers the history service on a Connect router. */
export function createHistoryRoutes(deps: HistoryRoutesDeps): (router: ConnectRouter) => void {
  const impl = new HistoryRoutes(deps);
  return (router) => void router.service(HistoryService, impl);
}
