import { fromBinary } from "@bufbuild/protobuf";
import { PixelBatchSchema } from "../../../gen/pixel/v1/canvas_pb.js";
import { DEFAULT_CANVAS_ID } from "../../../services/shared/config.js";
import { canvasKeys } from "../../../services/shared/redis-keys.js";
import { createRedisClient, type RedisEndpoint } from "../../../services/shared/redis-connection.js";
import type { AckLedger } from "./ack-ledger.js";

/** What the stored history held. */
export interface StoredHistory {
  /** Batches read from the canvas's history stream. */
  batches: number;
  /** Lowest and highest seq in it (0 when empty). */
  fromSeq: string;
  toSeq: string;
}

/**
 * Feeds every batch still in the canvas's bounded history stream into the ledger, which checks
 * each Ack against the stored batch it named. The suites' clusters keep enough history
 * (CHAOS_HISTORY_BATCHES) for a whole run, or the ledger reports acks it could not check.
 */
export async function recordStoredHistory(endpoint: RedisEndpoint, ledger: AckLedger, canvasId = DEFAULT_CANVAS_ID): Promise<StoredHistory> {
  const redis = createRedisClient(endpoint, { maxRetriesPerRequest: 2, lazyConnect: true });
  try {
    await redis.connect();
    const entries = await redis.xrangeBuffer(canvasKeys(canvasId).log, "-", "+");
    let from = 0n;
    let to = 0n;
    for (const [, fields] of entries) {
      // Fields come as [name, value, ...]; the batch is under "b".
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i]?.toString() !== "b") continue;
        const batch = fromBinary(PixelBatchSchema, fields[i + 1] as Buffer);
        ledger.recordStoredBatch(batch.seq, batch.epoch, batch.pixels);
        if (from === 0n || batch.seq < from) from = batch.seq;
        if (batch.seq > to) to = batch.seq;
      }
    }
    return { batches: entries.length, fromSeq: String(from), toSeq: String(to) };
  } finally {
    redis.disconnect();
  }
}
