import type { RedisOptions } from "ioredis";
import { REDIS_BASE_BACKOFF_MS, REDIS_COMMAND_TIMEOUT_MS, REDIS_MAX_BACKOFF_MS } from "../shared/timing.js";

/**
 * ioredis options for the canvas service's connections (store and registry): no offline queue and
 * no resends, so a call while Redis is down fails at once (the caller maps it to Unavailable), a
 * command timeout well inside the gateway's per-attempt deadline, and reconnects with jittered
 * exponential backoff so replicas do not retry in step.
 */
export function storeRedisOptions(connectionName: string): RedisOptions {
  return {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => {
      const cap = Math.min(REDIS_BASE_BACKOFF_MS * 2 ** Math.min(times, 16), REDIS_MAX_BACKOFF_MS);
      return Math.round(cap / 2 + (Math.random() * cap) / 2);
    },
  };
}
