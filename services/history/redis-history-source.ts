import { createRedisClient, type RedisClient, type RedisEndpoint } from "../shared/redis-connection.js";
import { storeRedisOptions } from "../canvas/store-redis-options.js";
import { CANVAS_REGISTRY_KEY, canvasKeys } from "../shared/redis-keys.js";
import { HISTORY_FIELDS, kindOfCode, type HistoryEntry, type HistorySlice, type HistorySource } from "./history-source.js";

/**
 * Reads each canvas's history stream (`canvas:{id}:log`, entries `<seq>-0`, see history-source.ts)
 * for the archiver, on its own connection. Every read is one MULTI on one canvas's keys (one hash
 * tag, one cluster slot): the meta hash's epoch and seq, the oldest retained entry's id and the
 * entries after a seq, consistent with each other because the write script changes them together.
 * The stream only ever holds the current epoch's batches (a new epoch deletes it in the same script).
 */
export class RedisHistorySource implements HistorySource {
  private readonly redis: RedisClient;

  /** `extraCanvasIds`: canvases to archive besides the registered ones (the configured CANVAS_IDS). */
  constructor(redis: RedisEndpoint, private readonly extraCanvasIds: readonly string[]) {
    // Reads are idempotent, so unlike the store's writes they may wait for a (re)connection and be resent.
    this.redis = createRedisClient(redis, { ...storeRedisOptions("pixel-history-archiver"), enableOfflineQueue: true, maxRetriesPerRequest: 3 });
    // Connection errors surface as failed reads, which the archiver retries with backoff.
    this.redis.on("error", () => undefined);
  }

  async canvasIds(): Promise<string[]> {
    const registered = await this.redis.hkeys(CANVAS_REGISTRY_KEY);
    return [...new Set([...this.extraCanvasIds, ...registered])].sort();
  }

  async read(canvasId: string, afterSeq: number, limit: number): Promise<HistorySlice> {
    const keys = canvasKeys(canvasId);
    const results = await this.redis
      .multi()
      .hmget(keys.meta, "epoch", "seq")
      .xrange(keys.log, "-", "+", "COUNT", 1)
      .xrangeBuffer(keys.log, `${afterSeq + 1}-0`, "+", "COUNT", limit)
      .exec();
    if (results === null) throw new Error("redis aborted the history read");
    for (const [err] of results) if (err) throw err;
    const [meta, first, range] = results.map(([, value]) => value) as [(string | null)[], [string, string[]][], [Buffer, Buffer[]][]];
    const epoch = Number(meta[0] ?? 0);
    const seq = Number(meta[1] ?? 0);
    const firstRetainedSeq = first.length > 0 ? seqOfId(first[0]![0]) : undefined;
    const entries = range.map(([id, fields]) => toEntry(seqOfId(id.toString()), epoch, fields));
    return { epoch, seq, firstRetainedSeq, entries };
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function seqOfId(id: string): number {
  return Number(id.split("-")[0]);
}

/** One stream entry's fields (name, value, name, value, ...) as a HistoryEntry. */
function toEntry(seq: number, epoch: number, fields: Buffer[]): HistoryEntry {
  const byName = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) byName.set(fields[i]!.toString(), fields[i + 1]!);
  const batch = byName.get(HISTORY_FIELDS.batch);
  if (batch === undefined) throw new Error(`history entry ${seq} has no batch field`);
  return {
    seq,
    epoch,
    batch,
    previousColors: byName.get(HISTORY_FIELDS.previousColors) ?? Buffer.alloc(0),
    kind: kindOfCode(byName.get(HISTORY_FIELDS.kind)?.toString()),
  };
}
