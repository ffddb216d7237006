import { ReplyError } from "ioredis";
import type { Logger } from "../shared/logger.js";
import { redisConnected } from "../shared/metrics.js";
import type { PixelLike } from "../../protocol/pixel-validation.js";
import { canvasKeys } from "../shared/redis-keys.js";
import { createRedisClient, publishCommand, type RedisClient, type RedisEndpoint, type WaitPolicy } from "../shared/redis-connection.js";
import { tileName, tileRect, type TileCoord } from "../../protocol/tile-grid.js";
import { canvasBudget, type BudgetSettings } from "./budget-settings.js";
import { PREPARE_CANVAS_LUA, READ_CANVAS_LUA, READ_TILE_LUA, READ_TILE_VERSIONS_LUA, RESET_CANVAS_LUA, RESTORE_BATCH_LUA, WRITE_BATCH_LUA, withPublishCommand } from "./canvas-lua.js";
import { ReplicatedWriter } from "./replicated-write.js";
import {
  CanvasSizeMismatchError,
  HISTORY_MAX_BATCHES,
  historyWindow,
  StoreUnavailableError,
  type CanvasShape,
  type CanvasShapeOf,
  type CanvasSnapshot,
  type CanvasStore,
  type PlacementRun,
  type RestoredBatch,
  type RestoreOptions,
  type RestoreWrite,
  type StoredBatch,
  checkRestoreWrites,
  type StoredPosition,
  type TileSnapshot,
  type TileVersions,
} from "./canvas-store.js";
import { assembleTiles } from "./assemble-tiles.js";
import { DEFAULT_BACKGROUND as WHITE } from "./tile-codec.js";
import { packPixelWrites, previousColorOrder } from "./pack-pixel-writes.js";
import { encodeRuleArg } from "./placement-budget.js";
import { resolveRuns } from "./placement-runs.js";
import { storeRedisOptions } from "./store-redis-options.js";
import { encodeAuthorIdentity, encodeBatchBody, encodeBatchHead, encodeBatchTail, encodePixels } from "./pixel-batch-codec.js";
import { HISTORY_KIND_CODES } from "../history/history-source.js";

/**
 * Redis replies that mean "not now" rather than "this request is wrong"; MOVED and ASK reach us
 * only while a cluster's slot map is changing (a failover), which the retry outlives.
 */
const TRANSIENT_REPLY = /^(LOADING|BUSY|OOM|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOSCRIPT|MOVED|ASK)/;

/** What a RedisCanvasStore needs. */
export interface RedisCanvasStoreOptions {
  /** One Redis (a URL or a single target) or a Redis Cluster (services/shared/redis-connection.ts). */
  redis: RedisEndpoint;
  /**
   * WAIT after each write before it counts as stored (see replicated-write.ts); default off. The
   * canvas service passes REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS (on by default on a cluster).
   */
  wait?: WaitPolicy;
  width: number;
  height: number;
  logger: Logger;
  /** History bound per canvas (XADD MAXLEN ~); defaults to HISTORY_MAX_BATCHES. */
  historyLimit?: number;
  /** Placement budgets per canvas; unset means none (every run is stored). */
  budgets?: BudgetSettings;
  /** Each canvas's registered size; unset (or undefined for a canvas) means `width` x `height`. */
  shapeOf?: CanvasShapeOf;
}

/** seq, epoch, then per run 0 (stored) or the ms to wait. */
type WriteReply = [number, number, ...number[]];
type PrepareReply = [number, number];
type ReadCanvasReply = [number, number, Buffer[], (Buffer | null)[]];
type ReadTileReply = [number, number, number, Buffer | null];
type ReadTileVersionsReply = [number, number, string[]];
type ScriptArg = string | number | Buffer | Uint8Array;

interface CanvasCommands {
  /** Takes the number of keys first: 3 canvas keys plus the batch's budget keys. */
  writeBatch(numKeys: number, ...keysAndArgs: ScriptArg[]): Promise<WriteReply>;
  prepareCanvas(meta: string, tiles: string, log: string, ...args: ScriptArg[]): Promise<PrepareReply>;
  resetCanvas(meta: string, tiles: string, log: string, ...args: ScriptArg[]): Promise<number>;
  readCanvasBuffer(meta: string, tiles: string, log: string, ...args: ScriptArg[]): Promise<ReadCanvasReply>;
  readTileBuffer(meta: string, tiles: string, log: string, ...args: ScriptArg[]): Promise<ReadTileReply>;
  readTileVersions(meta: string, tiles: string, log: string, ...args: ScriptArg[]): Promise<ReadTileVersionsReply>;
  /** Takes the number of keys first: 3 canvas keys, plus the undo allowance key when limited. */
  restoreBatch(numKeys: number, ...keysAndArgs: ScriptArg[]): Promise<[number, number, number, number]>;
}

/**
 * The canvas store on Redis. Each canvas is a meta hash, a hash of tile versions, one packed RGB
 * string per painted tile, a bounded history stream and a Pub/Sub channel (see
 * services/shared/redis-keys.ts); every write, and every read that must be consistent, is one Lua script.
 *
 * Resilience choices, on one command connection:
 * - `enableOfflineQueue: false`: while Redis is down a call fails at once with Unavailable
 *   instead of queueing; the gateway owns retries within its deadline, and nothing piles up here.
 * - `maxRetriesPerRequest: 0`: a write in flight when the connection drops fails instead of being
 *   resent after reconnect, so a caller never gets a late success for a call it already gave up on.
 * - `commandTimeout`: a hung Redis also ends in Unavailable (the write may still land; it is then
 *   published normally, so clients converge, but it was never acknowledged).
 * - reconnection with jittered exponential backoff capped at REDIS_MAX_BACKOFF_MS, forever.
 *
 * Data loss detection: the store remembers the highest (epoch, seq) it saw per canvas and passes it
 * to every script; if Redis comes back with a lower seq in that epoch, or without the canvas, the
 * script starts a new epoch so every client takes a fresh snapshot. After each reconnect the store
 * runs that check for every canvas it knows, without waiting for a write.
 */
export class RedisCanvasStore implements CanvasStore {
  private readonly redis: RedisClient & CanvasCommands;
  private readonly replicated: ReplicatedWriter | undefined;
  /** The same for undo and rollback batches (RESTORE_BATCH_LUA). */
  private readonly replicatedRestore: ReplicatedWriter | undefined;
  private readonly log: Logger;
  private readonly width: number;
  private readonly height: number;
  private readonly historyLimit: number;
  private readonly budgets: BudgetSettings | undefined;
  private readonly shapeOf: CanvasShapeOf | undefined;
  private readonly seen = new Map<string, StoredPosition>();
  private closed = false;
  private everReady = false;

  constructor(options: RedisCanvasStoreOptions) {
    this.log = options.logger;
    this.width = options.width;
    this.height = options.height;
    this.historyLimit = options.historyLimit ?? HISTORY_MAX_BATCHES;
    this.budgets = options.budgets;
    this.shapeOf = options.shapeOf;
    // No enableAutoPipelining: it defers every command by a setImmediate, which cost more at
    // light load (seed-stress p99 +2-4 ms) than its one write per turn saved (see bench/README.md).
    const redis = createRedisClient(options.redis, storeRedisOptions("pixel-canvas-store"));
    const lua = (source: string) => withPublishCommand(source, publishCommand(options.redis));
    redis.defineCommand("writeBatch", { lua: lua(WRITE_BATCH_LUA) });
    redis.defineCommand("prepareCanvas", { numberOfKeys: 3, lua: lua(PREPARE_CANVAS_LUA) });
    redis.defineCommand("resetCanvas", { numberOfKeys: 3, lua: lua(RESET_CANVAS_LUA) });
    redis.defineCommand("readCanvas", { numberOfKeys: 3, lua: lua(READ_CANVAS_LUA) });
    redis.defineCommand("readTile", { numberOfKeys: 3, lua: lua(READ_TILE_LUA) });
    redis.defineCommand("readTileVersions", { numberOfKeys: 3, lua: lua(READ_TILE_VERSIONS_LUA) });
    redis.defineCommand("restoreBatch", { lua: lua(RESTORE_BATCH_LUA) });
    this.redis = redis as RedisClient & CanvasCommands;
    const waitFor = options.wait && options.wait.replicas > 0 ? options.wait : undefined;
    this.replicated = waitFor && new ReplicatedWriter(redis, lua(WRITE_BATCH_LUA), waitFor);
    this.replicatedRestore = waitFor && new ReplicatedWriter(redis, lua(RESTORE_BATCH_LUA), waitFor);
    redisConnected.set({ role: "store" }, 0);
    redis.on("ready", () => {
      redisConnected.set({ role: "store" }, 1);
      this.log.info({ reconnect: this.everReady }, "redis store ready");
      if (this.everReady) void this.checkKnownCanvases();
      this.everReady = true;
    });
    redis.on("close", () => redisConnected.set({ role: "store" }, 0));
    redis.on("error", (err: Error) => this.log.warn({ err: err.message }, "redis store connection error"));
  }

  isReady(): boolean {
    return !this.closed && this.redis.status === "ready";
  }

  async getCanvas(canvasId: string): Promise<CanvasSnapshot> {
    const keys = canvasKeys(canvasId);
    const [epoch, seq, names, tiles] = await this.run(() =>
      this.redis.readCanvasBuffer(keys.meta, keys.tiles, keys.log, ...this.prepareArgs(canvasId)),
    );
    this.remember(canvasId, epoch, seq);
    // A tile whose key is missing reads as never painted, as GetTile reads it.
    const painted = names.flatMap((name, i) => (tiles[i] ? [[name.toString(), tiles[i]] as const] : []));
    const { width, height, background } = this.shape(canvasId);
    const pixels = assembleTiles(width, height, painted, background);
    return { canvasId, width, height, seq, epoch, pixels };
  }

  async getTile(canvasId: string, tile: TileCoord): Promise<TileSnapshot> {
    const { width, height } = this.shape(canvasId);
    const rect = tileRect(width, height, 0, tile);
    if (rect === undefined) throw new RangeError(`tile ${tileName(tile)} is outside the ${width}x${height} canvas`);
    const keys = canvasKeys(canvasId);
    const [epoch, seq, version, pixels] = await this.run(() =>
      this.redis.readTileBuffer(keys.meta, keys.tiles, keys.log, ...this.prepareArgs(canvasId), tileName(tile)),
    );
    this.remember(canvasId, epoch, seq);
    return { width: rect.width, height: rect.height, seq, epoch, version, pixels: pixels ?? undefined };
  }

  async tileVersions(canvasId: string): Promise<TileVersions> {
    const keys = canvasKeys(canvasId);
    const [epoch, seq, flat] = await this.run(() => this.redis.readTileVersions(keys.meta, keys.tiles, keys.log, ...this.prepareArgs(canvasId)));
    this.remember(canvasId, epoch, seq);
    const versions = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) versions.set(flat[i]!, Number(flat[i + 1]));
    return { seq, epoch, versions };
  }

  async setPixels(canvasId: string, pixels: readonly PixelLike[], author: string, runs?: readonly PlacementRun[]): Promise<StoredBatch> {
    const keys = canvasKeys(canvasId);
    const { width, height, background = WHITE } = this.shape(canvasId);
    const budget = canvasBudget(this.budgets, canvasId);
    const resolved = resolveRuns(pixels, runs, budget, keys.budget);
    // KEYS[4..]: each distinct budget key once; a run refers to its keys by index.
    const budgetKeys: string[] = [];
    const keyIndex = new Map<string, number>();
    const indexOf = (key: string | undefined) => {
      if (key === undefined) return 0;
      let index = keyIndex.get(key);
      if (index === undefined) {
        index = 4 + budgetKeys.push(key) - 1;
        keyIndex.set(key, index);
      }
      return index;
    };
    const runArgs: (string | number | Uint8Array)[] = [];
    const orders: Buffer[] = [];
    resolved.pixels.forEach((slice, i) => {
      const run = resolved.budgeted?.[i];
      runArgs.push(slice.length, indexOf(run?.userKey), indexOf(run?.ipKey), packPixelWrites(slice, width, height), encodePixels(slice), resolved.authors[i]!);
      orders.push(previousColorOrder(slice, width, height));
    });
    const seen = this.seen.get(canvasId);
    const numKeys = 3 + budgetKeys.length;
    const keysAndArgs: ScriptArg[] = [
      keys.meta, keys.tiles, keys.log, ...budgetKeys,
      keys.channel, width, height, seen?.epoch ?? 0, seen?.seq ?? 0, this.historyLimit, this.marker(canvasId),
      encodeBatchHead(canvasId), encodeBatchTail(author, Date.now()),
      encodeRuleArg(budget?.user), encodeRuleArg(budget?.ip), resolved.pixels.length, ...runArgs,
      Buffer.from([(background >>> 16) & 0xff, (background >>> 8) & 0xff, background & 0xff]),
      Buffer.concat(orders),
    ];
    const replicated = this.replicated;
    const [seq, epoch, ...decided] = replicated === undefined
      ? await this.run(() => this.redis.writeBatch(numKeys, ...keysAndArgs))
      // The seq is remembered even when too few replicas confirmed: this process saw it, so a failover
      // that loses it shows as a lower stored seq and starts a new epoch (see `prepare`).
      : await this.run(() => replicated.write<WriteReply>(numKeys, keysAndArgs, (reply) => this.remember(canvasId, reply[1], reply[0])));
    this.remember(canvasId, epoch, seq);
    const retryAfterMs = resolved.budgeted === undefined ? new Array<number>(resolved.runCount).fill(0) : decided;
    return { seq, epoch, retryAfterMs };
  }

  async restore(canvasId: string, writes: readonly RestoreWrite[], options: RestoreOptions): Promise<RestoredBatch> {
    const keys = canvasKeys(canvasId);
    const { width, height, background = WHITE } = this.shape(canvasId);
    checkRestoreWrites(writes, width, height);
    const packed = Buffer.alloc(writes.length * 10);
    writes.forEach((w, i) => {
      packed.writeUInt16BE(w.x, i * 10);
      packed.writeUInt16BE(w.y, i * 10 + 2);
      packed.writeUIntBE(w.color, i * 10 + 4, 3);
      packed.writeUIntBE(w.expected, i * 10 + 7, 3);
    });
    // The Author run without its pixel count, which only the script knows.
    const runFields = options.by === undefined ? Buffer.alloc(0) : encodeAuthorIdentity(options.by.userId, options.by.name);
    const limit = options.limit;
    const limitKeys = limit === undefined ? [] : [keys.restoreLimit + limit.userId];
    const numKeys = 3 + limitKeys.length;
    const keysAndArgs: ScriptArg[] = [
      keys.meta, keys.tiles, keys.log, ...limitKeys,
      ...this.prepareArgs(canvasId).slice(0, 5), this.historyLimit, this.marker(canvasId),
      encodeBatchHead(canvasId), encodeBatchTail(options.author, Date.now()),
      Buffer.from([(background >>> 16) & 0xff, (background >>> 8) & 0xff, background & 0xff]),
      HISTORY_KIND_CODES[options.kind], packed, encodePixels(writes), runFields,
      limit?.perWindow ?? 0, limit?.windowMs ?? 0,
    ];
    const replicated = this.replicatedRestore;
    type RestoreReply = [number, number, number, number];
    const [seq, epoch, restored, retryAfterMs] = replicated === undefined
      ? await this.run(() => this.redis.restoreBatch(numKeys, ...keysAndArgs))
      // Acknowledged means replicated for undo and rollback too (see writeBatch above).
      : await this.run(() => replicated.write<RestoreReply>(numKeys, keysAndArgs, (reply) => this.remember(canvasId, reply[1], reply[0])));
    this.remember(canvasId, epoch, seq);
    return { seq, epoch, restored, skipped: retryAfterMs > 0 ? 0 : writes.length - restored, retryAfterMs };
  }

  async history(canvasId: string, afterSeq: number, limit: number): Promise<Uint8Array[] | undefined> {
    const keys = canvasKeys(canvasId);
    const results = await this.run(() =>
      this.redis
        .multi()
        .hget(keys.meta, "seq")
        .xrange(keys.log, "-", "+", "COUNT", 1)
        .xrangeBuffer(keys.log, `${afterSeq + 1}-0`, "+", "COUNT", limit)
        .exec(),
    );
    const [seqText, first, range] = unwrapMulti(results) as [string | null, [string, string[]][], [Buffer, Buffer[]][]];
    const seq = seqText === null ? 0 : Number(seqText);
    const firstSeq = first.length > 0 ? Number(first[0]![0].split("-")[0]) : undefined;
    const window = historyWindow(afterSeq, seq, firstSeq);
    if (window === "none") return [];
    if (window === "snapshot") return undefined;
    // Each entry's first field is "b", with the published bytes (history-source.ts).
    return range.map(([, fields]) => fields[1]!);
  }

  async reset(canvasId: string): Promise<{ epoch: number }> {
    const keys = canvasKeys(canvasId);
    const { width, height } = this.shape(canvasId);
    const epoch = await this.run(() =>
      this.redis.resetCanvas(keys.meta, keys.tiles, keys.log, keys.channel, width, height, this.marker(canvasId), this.seen.get(canvasId)?.epoch ?? 0),
    );
    this.seen.set(canvasId, { epoch, seq: 0 });
    return { epoch };
  }

  async currentSeq(canvasId: string): Promise<number> {
    const seq = await this.run(() => this.redis.hget(canvasKeys(canvasId).meta, "seq"));
    return seq === null ? 0 : Number(seq);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Every write was acknowledged by Redis before its caller was; nothing is buffered here.
    await this.redis.quit().catch(() => this.redis.disconnect());
    redisConnected.set({ role: "store" }, 0);
  }

  /** The ARGV every script that prepares a canvas starts with: channel, size, the highest (epoch, seq) seen, marker body. */
  private prepareArgs(canvasId: string): ScriptArg[] {
    const seen = this.seen.get(canvasId);
    const { width, height } = this.shape(canvasId);
    return [canvasKeys(canvasId).channel, width, height, seen?.epoch ?? 0, seen?.seq ?? 0, this.marker(canvasId)];
  }

  /** The canvas's registered size, or the configured one. */
  private shape(canvasId: string): CanvasShape {
    return this.shapeOf?.(canvasId) ?? { width: this.width, height: this.height };
  }

  /** The body of an epoch marker: a PixelBatch with only canvas_id and time (the script adds seq and epoch). */
  private marker(canvasId: string): Uint8Array {
    return encodeBatchBody(canvasId, [], "", Date.now());
  }

  private remember(canvasId: string, epoch: number, seq: number): void {
    const prev = this.seen.get(canvasId);
    if (!prev || prev.epoch !== epoch || prev.seq < seq) this.seen.set(canvasId, { epoch, seq });
  }

  /** After a reconnect, detects lost data for every canvas this process has seen. */
  private async checkKnownCanvases(): Promise<void> {
    for (const canvasId of this.seen.keys()) {
      try {
        const before = this.seen.get(canvasId);
        const after = await this.getCanvasMeta(canvasId);
        if (before && after.epoch !== before.epoch) {
          this.log.warn({ canvasId, before, after }, "canvas lost data in redis; started a new epoch");
        }
      } catch (err) {
        this.log.warn({ canvasId, err: (err as Error).message }, "post-reconnect canvas check failed");
      }
    }
  }

  private async getCanvasMeta(canvasId: string): Promise<StoredPosition> {
    const keys = canvasKeys(canvasId);
    const [epoch, seq] = await this.run(() => this.redis.prepareCanvas(keys.meta, keys.tiles, keys.log, ...this.prepareArgs(canvasId)));
    this.remember(canvasId, epoch, seq);
    return { epoch, seq };
  }

  /** Runs a Redis call, translating failures into the store's typed errors. */
  private async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError("the canvas store is closed");
    try {
      return await call();
    } catch (err) {
      throw translate(err);
    }
  }
}

/** Maps an ioredis failure to a typed store error; anything unexpected passes through as a fault. */
function translate(err: unknown): Error {
  if (err instanceof ReplyError || isExecAbort(err)) {
    const message = (err as Error).message;
    const sizeAt = message.indexOf("SIZE_MISMATCH");
    if (sizeAt >= 0) {
      return new CanvasSizeMismatchError(`${message.slice(sizeAt + "SIZE_MISMATCH ".length).split(/[\r\n]/)[0]}; reset the canvas to resize it`);
    }
    if (TRANSIENT_REPLY.test(message)) return new StoreUnavailableError(`redis is not available: ${message}`);
    return err as Error;
  }
  // Connection closed, offline queue disabled, retries exhausted, command timeout.
  return new StoreUnavailableError(`redis is not available: ${err instanceof Error ? err.message : String(err)}`);
}

function isExecAbort(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("EXECABORT");
}

/** Unwraps an ioredis MULTI result, throwing the first per-command error. */
function unwrapMulti(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new StoreUnavailableError("redis aborted the transaction");
  return results.map(([err, value]) => {
    if (err) throw translate(err);
    return value;
  });
}
