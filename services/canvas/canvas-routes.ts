import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  CanvasService,
  WatchCanvasResponseSchema,
  type CanvasInfoSchema as CanvasInfoMessageSchema,
  type CreateCanvasRequest,
  type CreateCanvasResponseSchema,
  type ListCanvasesResponseSchema,
  type GetCanvasRequest,
  type GetCanvasResponseSchema,
  type GetTileRequest,
  type GetTileResponseSchema,
  TileEncoding,
  type ResetCanvasRequest,
  type ResetCanvasResponseSchema,
  type SetPixelsRequest,
  type SetPixelsResponseSchema,
  type WatchCanvasRequest,
  type WatchCanvasResponse,
  type WritePixelsRequest,
  type WritePixelsResponseSchema,
} from "../../gen/pixel/v1/canvas_pb.js";
import { MAX_PIXELS_PER_CALL, MAX_SNAPSHOT_PIXELS, resolveCanvasId, type Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import type { PixelBus } from "../shared/pixel-bus.js";
import { validateName, validatePixels } from "../../protocol/pixel-validation.js";
import { levelCount, TILE_SIZE } from "../../protocol/tile-grid.js";
import { CALLER_ADDRESS } from "./caller-address.js";
import { failureCode, toConnectError } from "./canvas-interceptor.js";
import { batchesStored, pixelsStored, setPixelsDuration, watchStreams, writeStreams } from "./canvas-metrics.js";
import type { CanvasStore } from "./canvas-store.js";
import { CanvasCatalog } from "./canvas-catalog.js";
import { MemoryCanvasRegistry } from "./memory-canvas-registry.js";
import { invalidCanvasSpec, WHITE, type CanvasInfo } from "./canvas-registry.js";
import { codeLabel } from "./code-label.js";
import { completionOrder } from "./completion-order.js";
import { placementRuns } from "./placement-runs-of-request.js";
import { TileReader } from "./tile-reader.js";
import { watchBatches } from "./watch-batches.js";
import type { BanList, BanRecord } from "./history/ban-list.js";
import { withoutBannedRuns } from "./history/ban-check.js";
import { regionAt, type Moment } from "./history/canvas-at.js";
import { safeNumber } from "./history/history-messages.js";
import { tileAt } from "./history/tile-at.js";
import type { PlacementLog } from "../history/placement-log.js";

/** What the canvas service needs; all injected so tests and the local entry can supply their own. */
export interface CanvasRoutesDeps {
  config: Config;
  store: CanvasStore;
  /**
   * The canvases that exist (the registry with its CANVAS_IDS seeds); the store's `shapeOf` must
   * read it. Defaults to an in-memory registry seeded from `config`, for a store of the configured size.
   */
  catalog?: CanvasCatalog;
  /** Where WatchCanvas hears live batches: the bus the store publishes on. */
  bus: PixelBus;
  logger: Logger;
  /** Where GetTile reads tiles; the server shares one with the HTTP tile route. Defaults to a new reader on `store`. */
  tiles?: TileReader;
  /** The bans in force, checked before every write; unset means no user is ever banned. */
  bans?: BanList;
  /** The placement log, for GetCanvas / GetTile at a past seq or time; unset makes those FailedPrecondition. */
  log?: PlacementLog;
}

/** The moment a GetCanvas / GetTile asks for, with its 64-bit fields checked. */
function momentOf(req: { atSeq?: bigint; atTimeUnixMs?: bigint }): Moment {
  return {
    seq: req.atSeq === undefined ? undefined : safeNumber(req.atSeq, "at_seq"),
    timeMs: req.atTimeUnixMs === undefined ? undefined : safeNumber(req.atTimeUnixMs, "at_time_unix_ms"),
  };
}

/** Per requested run: the store's result for a kept run, in order, or a refusal naming the ban. */
function withBannedResults(bans: readonly (BanRecord | undefined)[], decided: readonly { stored: boolean; retryAfterMs: number }[]) {
  let k = 0;
  return bans.map((ban) => (ban === undefined ? decided[k++]! : { stored: false, retryAfterMs: 0, banned: true, banReason: ban.reason }));
}

/**
 * SetPixels requests one WritePixels stream runs at once; while this many are running the stream
 * is not read, so HTTP/2 flow control holds the caller back.
 */
export const WRITE_STREAM_MAX_IN_FLIGHT = 64;

/**
 * The pixel.v1.CanvasService implementation. Every request is validated at the edge; failures are
 * thrown as they are, and the adapter's interceptor (`createCanvasInterceptor`) maps store faults to
 * precise codes (Unavailable, FailedPrecondition) and anything unexpected to a generic Internal error.
 *
 * Every canvas must be registered (CanvasCatalog; NotFound otherwise) and is validated against
 * its registered size. ResetCanvas and CreateCanvas are admin RPCs: who may call it, and where, is checked (and audited) by the
 * adminAccess interceptor the servers install (admin-access.ts).
 */
export class CanvasRoutes implements ServiceImpl<typeof CanvasService> {
  private readonly tiles: TileReader;
  private readonly catalog: CanvasCatalog;

  constructor(private readonly deps: CanvasRoutesDeps) {
    this.tiles = deps.tiles ?? new TileReader(deps.store);
    this.catalog = deps.catalog ?? new CanvasCatalog(new MemoryCanvasRegistry(), deps.config);
  }

  /** Refuses canvases above MAX_SNAPSHOT_PIXELS (FailedPrecondition: only a smaller configuration helps), pointing at tiles. */
  async getCanvas(req: GetCanvasRequest): Promise<MessageInitShape<typeof GetCanvasResponseSchema>> {
    const { name: canvasId, width: canvasWidth, height: canvasHeight } = await this.canvas(req.canvasId);
    if (canvasWidth * canvasHeight > MAX_SNAPSHOT_PIXELS) {
      throw new ConnectError(
        `canvas "${canvasId}" is ${canvasWidth}x${canvasHeight}, more than GetCanvas returns whole (${MAX_SNAPSHOT_PIXELS} pixels): read it by tile with GetTile or GET /api/tiles/${canvasId}/<level>/<tx>/<ty>.png`,
        Code.FailedPrecondition,
      );
    }
    if (req.atSeq !== undefined || req.atTimeUnixMs !== undefined) {
      const canvas = await this.canvas(req.canvasId);
      const past = await regionAt(this.deps.store, this.deps.log, canvas, { x: 0, y: 0, width: canvasWidth, height: canvasHeight }, momentOf(req));
      return { canvasId, width: canvasWidth, height: canvasHeight, seq: BigInt(past.seq), epoch: BigInt(past.epoch), pixels: past.pixels };
    }
    const snap = await this.deps.store.getCanvas(canvasId);
    return { canvasId, width: snap.width, height: snap.height, seq: BigInt(snap.seq), epoch: BigInt(snap.epoch), pixels: snap.pixels };
  }

  /** One tile, PNG-encoded; a level or tile outside the canvas is OutOfRange. */
  async getTile(req: GetTileRequest): Promise<MessageInitShape<typeof GetTileResponseSchema>> {
    const shape = await this.canvas(req.canvasId);
    const canvasId = shape.name;
    if (req.atSeq !== undefined || req.atTimeUnixMs !== undefined) {
      const past = await tileAt(this.deps.store, this.deps.log, shape, req.level, { tx: req.tx, ty: req.ty }, momentOf(req));
      const { width: canvasWidth, height: canvasHeight } = shape;
      // A past tile carries no version of its own: the seq it shows stands for it.
      return { canvasId, level: req.level, tx: req.tx, ty: req.ty, width: past.width, height: past.height, encoding: TileEncoding.PNG, data: past.png, seq: BigInt(past.seq), epoch: BigInt(past.epoch), version: BigInt(past.seq), tileSize: TILE_SIZE, canvasWidth, canvasHeight, levelCount: levelCount(canvasWidth, canvasHeight) };
    }
    const tile = await this.tiles.read(canvasId, shape, req.level, { tx: req.tx, ty: req.ty });
    if (tile === undefined) {
      throw new ConnectError(
        `tile ${req.level}/${req.tx}/${req.ty} is outside canvas "${canvasId}" (${shape.width}x${shape.height}, levels 0-${levelCount(shape.width, shape.height) - 1}, tiles of ${TILE_SIZE})`,
        Code.OutOfRange,
      );
    }
    return {
      canvasId,
      level: tile.level,
      tx: tile.tx,
      ty: tile.ty,
      width: tile.width,
      height: tile.height,
      encoding: TileEncoding.PNG,
      data: tile.png,
      seq: BigInt(tile.seq),
      epoch: BigInt(tile.epoch),
      version: BigInt(tile.version),
      tileSize: TILE_SIZE,
      canvasWidth: tile.canvasWidth,
      canvasHeight: tile.canvasHeight,
      levelCount: tile.levelCount,
    };
  }

  async setPixels(req: SetPixelsRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof SetPixelsResponseSchema>> {
    return this.storeBatch(req, ctx);
  }

  /**
   * SetPixels calls over one stream: each request is stored exactly as SetPixels would, up to
   * WRITE_STREAM_MAX_IN_FLIGHT at once, and answered (in completion order) with its id; a refused
   * request is answered with its error and the stream goes on. On shutdown the stream stops
   * reading, answers what it started and ends.
   */
  async *writePixels(requests: AsyncIterable<WritePixelsRequest>, ctx: HandlerContext): AsyncGenerator<MessageInitShape<typeof WritePixelsResponseSchema>> {
    writeStreams.inc();
    try {
      yield* completionOrder(requests, WRITE_STREAM_MAX_IN_FLIGHT, (req) => this.answer(req, ctx), ctx.signal);
    } finally {
      writeStreams.dec();
    }
  }

  /**
   * One request of a write stream. Its failure answers only this request, so it never reaches the
   * interceptor: it is mapped, logged and counted here, as the SetPixels it stands for.
   */
  private async answer(req: WritePixelsRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof WritePixelsResponseSchema>> {
    try {
      if (req.request === undefined) throw new ConnectError(`request ${req.id} has no SetPixels request`, Code.InvalidArgument);
      const stored = await this.storeBatch(req.request, ctx);
      return { id: req.id, result: { case: "stored", value: stored } };
    } catch (err) {
      const error = toConnectError("SetPixels", err, ctx.requestHeader, this.deps.logger);
      return { id: req.id, result: { case: "error", value: { code: error.code, message: error.rawMessage } } };
    }
  }

  /**
   * Validates and stores one batch, each Author run checked against its placement budgets (see
   * placementRuns), timing it by result; throws the failure unmapped.
   */
  private async storeBatch(req: SetPixelsRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof SetPixelsResponseSchema>> {
    const started = performance.now();
    try {
      const { name: canvasId, width, height } = await this.canvas(req.canvasId);
      const invalid = validatePixels(req.pixels, width, height, MAX_PIXELS_PER_CALL);
      if (invalid !== undefined) throw new ConnectError(invalid, Code.InvalidArgument);
      const badAuthor = validateName(req.author);
      if (badAuthor !== undefined) throw new ConnectError(`author: ${badAuthor}`, Code.InvalidArgument);
      const requested = placementRuns(req, ctx.values.get(CALLER_ADDRESS));
      const bans = this.deps.bans;
      const unbanned = bans === undefined ? undefined : withoutBannedRuns(req.pixels, requested, (userId) => bans.banOf(userId));
      const runs = unbanned?.runs ?? requested;
      const stored = await this.deps.store.setPixels(canvasId, unbanned?.pixels ?? req.pixels, req.author, runs);
      const storedPixels = runs.reduce((sum, run, i) => sum + (stored.retryAfterMs[i] === 0 ? run.pixelCount : 0), 0);
      if (storedPixels > 0) {
        pixelsStored.inc(storedPixels);
        batchesStored.inc();
      }
      if (req.authors.length === 0 && storedPixels === 0) {
        // A caller without per-run results learns of the refusal from the status alone.
        throw new ConnectError(`over this canvas's placement budget; nothing was stored, retry after ${stored.retryAfterMs[0]} ms`, Code.ResourceExhausted);
      }
      setPixelsDuration.observe({ result: "ok" }, (performance.now() - started) / 1000);
      const decided = stored.retryAfterMs.map((ms) => ({ stored: ms === 0, retryAfterMs: ms }));
      const results = req.authors.length === 0 ? [] : unbanned === undefined ? decided : withBannedResults(unbanned.bans, decided);
      return { seq: BigInt(stored.seq), epoch: BigInt(stored.epoch), results };
    } catch (err) {
      setPixelsDuration.observe({ result: codeLabel(failureCode(err)) }, (performance.now() - started) / 1000);
      throw err;
    }
  }

  async *watchCanvas(req: WatchCanvasRequest, ctx: HandlerContext): AsyncGenerator<WatchCanvasResponse> {
    watchStreams.inc();
    try {
      const canvasId = (await this.canvas(req.canvasId)).name;
      const afterSeq = Number(req.afterSeq);
      if (!Number.isSafeInteger(afterSeq)) throw new ConnectError(`after_seq ${req.afterSeq} is out of range`, Code.InvalidArgument);
      for await (const batch of watchBatches({ store: this.deps.store, bus: this.deps.bus, canvasId, afterSeq, signal: ctx.signal })) {
        yield create(WatchCanvasResponseSchema, { batch });
      }
    } finally {
      watchStreams.dec();
    }
  }

  async resetCanvas(req: ResetCanvasRequest): Promise<MessageInitShape<typeof ResetCanvasResponseSchema>> {
    const canvasId = (await this.canvas(req.canvasId)).name;
    const { epoch } = await this.deps.store.reset(canvasId);
    this.deps.logger.warn({ canvasId, epoch }, "canvas reset by an admin");
    return { epoch: BigInt(epoch) };
  }

  /** Registers a canvas; idempotent for an identical spec, AlreadyExists for another one. */
  async createCanvas(req: CreateCanvasRequest): Promise<MessageInitShape<typeof CreateCanvasResponseSchema>> {
    const spec = { name: req.name, width: req.width, height: req.height, background: req.backgroundColor ?? WHITE };
    const invalid = invalidCanvasSpec(spec);
    if (invalid !== undefined) throw new ConnectError(invalid, Code.InvalidArgument);
    const { info, created } = await this.catalog.create(spec);
    if (created) this.deps.logger.info({ canvasId: info.name, width: info.width, height: info.height }, "canvas created by an admin");
    return { canvas: await this.describe(info), created };
  }

  /** Every registered canvas with its current seq. */
  async listCanvases(): Promise<MessageInitShape<typeof ListCanvasesResponseSchema>> {
    const infos = await this.catalog.list();
    return { canvases: await Promise.all(infos.map((info) => this.describe(info))) };
  }

  private async describe(info: CanvasInfo): Promise<MessageInitShape<typeof CanvasInfoMessageSchema>> {
    const seq = await this.deps.store.currentSeq(info.name);
    return { name: info.name, width: info.width, height: info.height, backgroundColor: info.background, createdUnixMs: BigInt(info.createdUnixMs), seq: BigInt(seq) };
  }

  /** Resolves the default canvas and refuses (NotFound) a canvas that is not registered. */
  private canvas(requested: string): Promise<CanvasInfo> {
    return this.catalog.resolve(resolveCanvasId(requested));
  }
}

/** Registers the canvas service on a Connect router. */
export function createCanvasRoutes(deps: CanvasRoutesDeps): (router: ConnectRouter) => void {
  const impl = new CanvasRoutes(deps);
  return (router) => void router.service(CanvasService, impl);
}
