import type { Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import { MemoryPixelBus, RedisPixelBus, type PixelBus } from "../shared/pixel-bus.js";
import { loadCanvasSettings, type CanvasSettings } from "./canvas-settings.js";
import type { CanvasShapeOf, CanvasStore } from "./canvas-store.js";
import { CanvasCatalog } from "./canvas-catalog.js";
import type { CanvasRegistry } from "./canvas-registry.js";
import { MemoryCanvasRegistry } from "./memory-canvas-registry.js";
import { RedisCanvasRegistry } from "./redis-canvas-registry.js";
import { MemoryCanvasStore } from "./memory-canvas-store.js";
import { RedisCanvasStore } from "./redis-canvas-store.js";

/**
 * The store the configuration asks for: Redis when REDIS_URL or REDIS_CLUSTER_NODES is set (it publishes on Redis
 * Pub/Sub itself, and `bus` is not used), otherwise the embedded store saved under DATA_DIR that
 * publishes on `bus`. Each canvas's size comes from `shapeOf` (the registry).
 */
function createCanvasStore(config: Config, logger: Logger, bus: MemoryPixelBus, settings: CanvasSettings = loadCanvasSettings(), shapeOf?: CanvasShapeOf): CanvasStore {
  const common = { width: config.canvasWidth, height: config.canvasHeight, logger, historyLimit: settings.historyBatches, budgets: settings.budgets, shapeOf };
  if (config.redis !== undefined) return new RedisCanvasStore({ ...common, redis: config.redis, wait: config.redisWait });
  return new MemoryCanvasStore({ ...common, bus, dataDir: config.dataDir });
}

/** A store, the bus its batches arrive on and the registry of its canvases, matched to each other. */
export interface CanvasBackend {
  store: CanvasStore;
  bus: PixelBus;
  registry: CanvasRegistry;
  /** The registry seeded with CANVAS_IDS; the store reads each canvas's size from it. */
  catalog: CanvasCatalog;
}

/**
 * Builds a matched store, bus and registry: on Redis (one server or a cluster), otherwise the embedded store
 * and registry (saved under DATA_DIR) and a MemoryPixelBus. Close the store and registry before the bus.
 */
export function createCanvasBackend(config: Config, logger: Logger, settings: CanvasSettings = loadCanvasSettings()): CanvasBackend {
  // The memory bus only carries batches of the embedded store; with Redis, Pub/Sub does.
  const memoryBus = new MemoryPixelBus();
  const registry = config.redis !== undefined ? new RedisCanvasRegistry(config.redis, logger.child({ component: "registry" })) : new MemoryCanvasRegistry(config.dataDir);
  const catalog = new CanvasCatalog(registry, config);
  const store = createCanvasStore(config, logger, memoryBus, settings, (canvasId) => catalog.shapeOf(canvasId));
  const bus = config.redis !== undefined ? new RedisPixelBus(config.redis, logger.child({ component: "bus" })) : memoryBus;
  return { store, bus, registry, catalog };
}
