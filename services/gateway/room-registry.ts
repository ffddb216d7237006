import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "../shared/logger.js";
import type { PixelBus } from "../shared/pixel-bus.js";
import type { CanvasClient } from "./canvas-client.js";
import { CanvasRoom, type RoomHooks, type RoomOptions } from "./canvas-room.js";

/** Timing of room lifecycles. */
export interface RoomRegistryOptions extends RoomOptions {
  /** An empty room stays subscribed this long so reconnecting clients can still resume from its ring. */
  lingerMs: number;
  /** Deadline of each GetCanvas. */
  snapshotTimeoutMs: number;
  /** After seeding or a bus reconnect, one more GetCanvas checks that no batch was missed ... */
  verifyDelayMs: number;
  /** ... and the room must reach that snapshot's seq within this long. */
  verifyCatchUpMs: number;
}

interface Entry {
  room: CanvasRoom;
  ready: Promise<void>;
  unsubscribe: () => void;
  linger?: NodeJS.Timeout;
}

/**
 * The rooms of this gateway, one per canvas with joined (or recently joined)
 * connections. The first acquire subscribes on the bus and then seeds the room with
 * GetCanvas, so no batch published after the snapshot can be missed.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Entry>();
  private readonly stopResubscribed: () => void;

  constructor(
    private readonly bus: PixelBus,
    private readonly canvas: Pick<CanvasClient, "getCanvas">,
    private readonly options: RoomRegistryOptions,
    private readonly hooks: RoomHooks,
    private readonly log: Logger,
    /** Called after a room was closed, e.g. to withdraw its presence entry. */
    private readonly onRoomClosed: (canvasId: string) => void = () => undefined,
  ) {
    // Pub/Sub may have lost messages while reconnecting: every room re-snapshots.
    this.stopResubscribed = bus.onResubscribed(() => {
      for (const { room } of this.rooms.values()) {
        if (room.live) room.requestResync("bus_reconnect");
        this.scheduleVerify(room);
      }
    });
  }

  /** The room of a canvas, seeded and ready to join; rejects with the GetCanvas error (NotFound for an unknown canvas). */
  async acquire(canvasId: string): Promise<CanvasRoom> {
    const existing = this.rooms.get(canvasId);
    if (existing) {
      clearTimeout(existing.linger);
      existing.linger = undefined;
      await existing.ready;
      return existing.room;
    }
    const room = new CanvasRoom(canvasId, () => this.canvas.getCanvas(canvasId, this.options.snapshotTimeoutMs), this.options, this.hooks, this.log);
    const unsubscribe = this.bus.subscribe(canvasId, (payload) => room.onBatch(payload));
    const ready = room.load();
    const entry: Entry = { room, ready, unsubscribe };
    this.rooms.set(canvasId, entry);
    try {
      await ready;
    } catch (err) {
      this.close(entry);
      const error = ConnectError.from(err);
      // Logged once here for everyone waiting on this room, not once per Hello.
      // An unknown canvas is the client's mistake, not an incident.
      const level = error.code === Code.NotFound ? "debug" : "warn";
      this.log[level]({ canvasId, code: Code[error.code], err: error.rawMessage }, "cannot load canvas");
      throw error;
    }
    this.scheduleVerify(room);
    return room;
  }

  /** Called when a member left; an empty room closes after the linger time. */
  release(room: CanvasRoom): void {
    const entry = this.rooms.get(room.canvasId);
    if (!entry || entry.room !== room || room.memberSet.size > 0) return;
    clearTimeout(entry.linger);
    entry.linger = setTimeout(() => {
      if (room.memberSet.size === 0) this.close(entry);
    }, this.options.lingerMs);
    entry.linger.unref();
  }

  /** Every room, seeded or not. */
  all(): CanvasRoom[] {
    return [...this.rooms.values()].map((e) => e.room);
  }

  /** Disposes every room and stops listening. */
  closeAll(): void {
    this.stopResubscribed();
    for (const entry of [...this.rooms.values()]) this.close(entry);
  }

  private close(entry: Entry): void {
    clearTimeout(entry.linger);
    if (this.rooms.get(entry.room.canvasId) === entry) this.rooms.delete(entry.room.canvasId);
    entry.unsubscribe();
    entry.room.dispose();
    this.onRoomClosed(entry.room.canvasId);
  }

  /**
   * The bus cannot say when a subscription became active, so a batch published just
   * before it could be missed with nothing after it to reveal the gap. Some time after
   * seeding (and after a bus reconnect) take one more snapshot: the room must reach its
   * seq soon (batches in flight arrive within milliseconds), else it resyncs.
   */
  private scheduleVerify(room: CanvasRoom): void {
    const timer = setTimeout(() => void this.verify(room), this.options.verifyDelayMs);
    timer.unref();
  }

  private async verify(room: CanvasRoom): Promise<void> {
    if (room.disposed) return;
    let snap;
    try {
      snap = await this.canvas.getCanvas(room.canvasId, this.options.snapshotTimeoutMs);
    } catch (err) {
      this.log.warn({ canvasId: room.canvasId, err: (err as Error).message }, "verification snapshot failed");
      return;
    }
    const deadline = Date.now() + this.options.verifyCatchUpMs;
    while (room.live && room.epoch === snap.epoch && room.seq < snap.seq && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!room.live) return;
    if (room.epoch !== snap.epoch || room.seq < snap.seq) {
      this.log.warn({ canvasId: room.canvasId, roomSeq: String(room.seq), storedSeq: String(snap.seq) }, "room missed a batch; resyncing");
      room.requestResync("gap");
    }
  }
}
