import { randomBytes } from "node:crypto";
import { CloseCode } from "../../gen/pixel/v1/realtime_pb.js";
import { MAX_PIXELS_PER_CALL, MAX_PIXELS_PER_PLACE, type Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import type { PixelBus } from "../shared/pixel-bus.js";
import type { CanvasClient } from "./upstream/canvas-client.js";
import type { RoomHooks } from "./room/canvas-room.js";
import { Connection } from "./session/connection.js";
import type { ClientSocket } from "./session/client-socket.js";
import type { ConnectionContext } from "./session/connection-context.js";
import * as metrics from "./gateway-metrics.js";
import { DEFAULT_TUNING, type GatewayTuning } from "./gateway-tuning.js";
import { MAX_PRESENCE_NAMES, type PresenceStore } from "./presence/presence.js";
import { RoomRegistry } from "./room/room-registry.js";
import { EventLoopLoad, LOAD_SAMPLE_MS } from "./room/load-gauge.js";
import { presenceFrame } from "../../protocol/server-frames.js";
import { WriteBatcher } from "./upstream/write-batcher.js";

/** What the gateway logic needs; the socket transport lives in gateway-server.ts. */
export interface GatewayDeps {
  config: Pick<Config, "pixelsPerSecond" | "pixelBurst" | "maxConnections" | "instanceId">;
  log: Logger;
  bus: PixelBus;
  canvas: CanvasClient;
  presence: PresenceStore;
  tuning?: Partial<GatewayTuning>;
}

const roomHooks: RoomHooks = {
  fannedOut(pixels, sockets, timeUnixMs) {
    metrics.pixelsBroadcast.inc(pixels * sockets);
    if (timeUnixMs > 0n) metrics.fanoutLatency.observe(Math.max(0, Date.now() - Number(timeUnixMs)) / 1000);
  },
  sentFrame(batches, sockets) {
    (batches === 1 ? metrics.batchFramesOut : metrics.batchesFramesOut).inc(sockets);
    metrics.fanoutFrameBatches.observe(batches);
  },
  resynced(reason) {
    metrics.resyncs.labels(reason).inc();
  },
};

/**
 * The gateway's state and timers, independent of ws: connections, rooms, one write
 * batcher per canvas, slow-consumer monitoring, presence, readiness and draining.
 */
export class Gateway {
  readonly tuning: GatewayTuning;
  readonly rooms: RoomRegistry;
  readonly connections = new Set<Connection>();
  private readonly batchers = new Map<string, WriteBatcher>();
  private readonly slow = new Set<Connection>();
  private readonly presenceFrames = new Map<string, { key: string; frame: Uint8Array }>();
  private readonly context: ConnectionContext;
  private readonly timers: NodeJS.Timeout[] = [];
  private presenceRunning = false;
  /** A refresh was asked for while one ran; run again when it ends. */
  private presenceAgain = false;
  private presenceSoon: NodeJS.Timeout | undefined;
  /** When a join- or leave-triggered refresh last ran, for throttling them during connection storms. */
  private lastTriggeredPresenceAt = 0;
  private canvasReachable = false;
  private draining = false;
  private readonly presenceRemovals = new Set<Promise<void>>();
  private readonly idPrefix = randomBytes(3).toString("hex");
  private nextId = 0;

  constructor(private readonly deps: GatewayDeps) {
    this.tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    const t = this.tuning;
    // Batches must stop (slow consumer, resynced later) before the hard cap closes the socket.
    if (t.sendBufferMaxBytes <= t.slowConsumerBytes) throw new Error("tuning: sendBufferMaxBytes must exceed slowConsumerBytes");
    this.rooms = new RoomRegistry(
      deps.bus,
      deps.canvas,
      { ...t, lingerMs: t.roomLingerMs, maxPixelsPerPlace: MAX_PIXELS_PER_PLACE, pixelsPerSecond: deps.config.pixelsPerSecond, loadGauge: new EventLoopLoad(t.frameBudgetLoad, LOAD_SAMPLE_MS, undefined, undefined, (busy, loaded) => {
        metrics.eventLoopUtilization.set(busy);
        metrics.underLoad.set(loaded ? 1 : 0);
      }) },
      roomHooks,
      deps.log,
      (canvasId) => {
        this.presenceFrames.delete(canvasId);
        const removal = deps.presence.remove(canvasId).catch((err: Error) => deps.log.warn({ canvasId, err: err.message }, "presence remove failed"));
        // Shutdown waits for these, so the caller may close the presence store right after.
        this.presenceRemovals.add(removal);
        void removal.finally(() => this.presenceRemovals.delete(removal));
      },
    );
    this.context = {
      log: deps.log,
      rooms: this.rooms,
      batcherFor: (canvasId) => this.batcherFor(canvasId),
      pixelsPerSecond: deps.config.pixelsPerSecond,
      pixelBurst: deps.config.pixelBurst,
      slowConsumerBytes: t.slowConsumerBytes,
      sendBufferMaxBytes: t.sendBufferMaxBytes,
      stalledSocketCloseMs: t.stalledSocketCloseMs,
      forcedCloseGraceMs: t.forcedCloseGraceMs,
      refusedFramesMax: t.refusedFramesMax,
      refusedFramesWindowMs: t.refusedFramesWindowMs,
      markSlow: (conn) => this.slow.add(conn),
      presenceFrame: (canvasId) => this.presenceFrames.get(canvasId)?.frame,
      membersChanged: () => this.schedulePresenceRefresh(),
      draining: () => this.draining,
      helloTimeoutMs: t.helloTimeoutMs,
      coalesceAcks: t.coalesceAcks,
      pixelColumns: t.pixelColumns,
    };
  }

  /** Starts the periodic work: slow consumers, presence, readiness checks. */
  start(): void {
    const t = this.tuning;
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(t.slowConsumerCheckMs, () => this.checkSlowConsumers());
    every(t.presenceIntervalMs, () => void this.refreshPresence());
    every(t.readyCheckIntervalMs, () => void this.checkCanvas());
    void this.checkCanvas();
  }

  /** True when the bus delivers, the canvas service answers, and the gateway is not draining. */
  isReady(): boolean {
    return !this.draining && this.canvasReachable && this.deps.bus.isReady();
  }

  /** True once shutdown began. */
  isDraining(): boolean {
    return this.draining;
  }

  /** Whether another socket may be accepted; the reason is the close code to refuse it with. */
  admission(): CloseCode | undefined {
    if (this.draining) return CloseCode.SERVICE_RESTART;
    if (this.connections.size >= this.deps.config.maxConnections) return CloseCode.TRY_AGAIN_LATER;
    return undefined;
  }

  /** Wraps a newly accepted socket. */
  open(socket: ClientSocket): Connection {
    const id = `${this.idPrefix}-${(this.nextId++).toString(36)}`;
    const conn = new Connection(id, socket, this.context);
    this.connections.add(conn);
    metrics.connectionsOpened.inc();
    metrics.connectionsGauge.set(this.connections.size);
    return conn;
  }

  /** The socket of `conn` closed with `code`. */
  closed(conn: Connection, code: number): void {
    if (!this.connections.delete(conn)) return;
    conn.closed();
    this.slow.delete(conn);
    metrics.connectionsClosed.labels(String(code)).inc();
    metrics.connectionsGauge.set(this.connections.size);
  }

  /**
   * Drains: stop admitting and placing, let in-flight and queued SetPixels finish
   * (their Acks and Errors still go out) for at most `writeWaitMs`, then close every
   * socket with 1012 so clients reconnect to another replica at once.
   */
  async shutdown(writeWaitMs: number): Promise<void> {
    this.draining = true;
    const idle = Promise.all([...this.batchers.values()].map((b) => b.whenIdle()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([idle, new Promise<void>((r) => (timer = setTimeout(r, writeWaitMs)))]);
    clearTimeout(timer);
    for (const conn of this.connections) conn.close(CloseCode.SERVICE_RESTART, "gateway restarting; reconnect");
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.presenceSoon);
    this.rooms.closeAll();
    // Every write was settled (or its wait ran out): the write stream may go.
    this.deps.canvas.close?.();
    await Promise.all(this.presenceRemovals);
  }

  private batcherFor(canvasId: string): WriteBatcher {
    let batcher = this.batchers.get(canvasId);
    if (!batcher) {
      const t = this.tuning;
      batcher = new WriteBatcher(
        canvasId,
        this.deps.canvas,
        {
          maxQueuedPixels: t.writeQueueMaxPixels,
          maxPixelsPerCall: MAX_PIXELS_PER_CALL,
          maxInFlight: t.writeMaxInFlight,
          deadlineMs: t.writeDeadlineMs,
          attemptTimeoutMs: t.writeAttemptTimeoutMs,
          backoffBaseMs: t.writeBackoffBaseMs,
          maxBackoffMs: t.writeMaxBackoffMs,
        },
        {
          called: (result, seconds) => metrics.setPixelsDuration.labels(result).observe(seconds),
          queueChanged: (delta) => metrics.writeQueuePixels.inc(delta),
        },
        this.deps.log,
      );
      this.batchers.set(canvasId, batcher);
    }
    return batcher;
  }

  private checkSlowConsumers(): void {
    if (this.slow.size === 0) return;
    const now = Date.now();
    const t = this.tuning;
    for (const conn of this.slow) if (conn.checkSlow(now, t.slowConsumerDrainedBytes, t.slowConsumerTimeoutMs)) this.slow.delete(conn);
  }

  private async checkCanvas(): Promise<void> {
    const reachable = await this.deps.canvas.isReachable(this.tuning.readyCheckTimeoutMs).catch(() => false);
    if (reachable !== this.canvasReachable) this.deps.log.info({ reachable }, "canvas service reachability changed");
    this.canvasReachable = reachable;
  }

  /** Re-publishes presence soon after a join or leave, coalescing bursts (see PRESENCE_MIN_INTERVAL_MS). */
  private schedulePresenceRefresh(): void {
    if (this.presenceSoon !== undefined || this.draining) return;
    // Each refresh may broadcast to every socket in the room: during a storm of joins, at most one
    // per presenceMinIntervalMs; after a quiet spell the first one goes out after the debounce.
    const t = this.tuning;
    const wait = Math.max(t.presenceDebounceMs, this.lastTriggeredPresenceAt + t.presenceMinIntervalMs - Date.now());
    this.presenceSoon = setTimeout(() => {
      this.presenceSoon = undefined;
      this.lastTriggeredPresenceAt = Date.now();
      void this.refreshPresence();
    }, wait);
    this.presenceSoon.unref();
  }

  /** Publishes this gateway's members per room and broadcasts the merged view when it changed. */
  private async refreshPresence(): Promise<void> {
    if (this.presenceRunning) {
      this.presenceAgain = true;
      return;
    }
    this.presenceRunning = true;
    try {
      await Promise.all(
        this.rooms.all().map(async (room) => {
          if (room.disposed) return;
          const names: string[] = [];
          for (const member of room.memberSet) if (member.name !== "") names.push(member.name);
          try {
            // Only the first MAX_PRESENCE_NAMES can ever be shown, so no gateway writes more.
            names.sort();
            if (names.length > MAX_PRESENCE_NAMES) names.length = MAX_PRESENCE_NAMES;
            const view = await this.deps.presence.sync(room.canvasId, { online: room.memberSet.size, names });
            const key = `${view.online}\n${view.names.join("\n")}`;
            if (room.disposed || this.presenceFrames.get(room.canvasId)?.key === key) return;
            const frame = presenceFrame(view.online, view.names);
            this.presenceFrames.set(room.canvasId, { key, frame });
            room.broadcast(frame);
          } catch (err) {
            this.deps.log.warn({ canvasId: room.canvasId, err: (err as Error).message }, "presence refresh failed");
          }
        }),
      );
    } finally {
      this.presenceRunning = false;
    }
    if (this.presenceAgain) {
      this.presenceAgain = false;
      this.schedulePresenceRefresh();
    }
  }
}
