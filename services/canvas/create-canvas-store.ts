import type { Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import { MemoryPixelBus, RedisPixelBus, type PixelBus } from "../shared/pixel-bus.js";
import { loadCanvasSettings, type CanvasSettings } from "./canvas-settings.js";
import type { CanvasStore } from "./canvas-store.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { RedisCanvasStore } from "./redis-canvas-store.js";

/**
 * The store the configuration asks for: Redis when REDIS_URL is set (it publishes on Redis
 * Pub/Sub itself, and `bus` is not used), otherwise the embedded store saved under DATA_DIR that
 * publishes on `bus`.
 */
export function createCanvasStore(config: Config, logger: Logger, bus: MemoryPixelBus, settings: CanvasSettings = loadCanvasSettings()): CanvasStore {
  const common = { width: config.canvasWidth, height: config.canvasHeight, logger, historyLimit: settings.historyBatches, budgets: settings.budgets };
  if (config.redisUrl !== undefined) return new RedisCanvasStore({ ...common, redisUrl: config.redisUrl });
  return new MemoryCanvasStore({ ...common, bus, dataDir: config.dataDir });
}

/** A store and the bus its batches arrive on, matched to each other. */
export interface CanvasBackend {
  store: CanvasStore;
  bus: PixelBus;
}

/**
 * Builds a matched store and bus: Redis store + RedisPixelBus with REDIS_URL, otherwise the
 * embedded store + a MemoryPixelBus. Close the store before the bus.
 */
export function createCanvasBackend(config: Config, logger: Logger, settings: CanvasSettings = loadCanvasSettings()): CanvasBackend {
  // The memory bus only carries batches of the embedded store; with Redis, Pub/Sub does.
  const memoryBus = new MemoryPixelBus();
  const store = createCanvasStore(config, logger, memoryBus, settings);
  const bus = config.redisUrl !== undefined ? new RedisPixelBus(config.redisUrl, logger.child({ component: "bus" })) : memoryBus;
  return { store, bus };
}
