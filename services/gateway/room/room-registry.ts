import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "../../shared/logger.js";
import type { PixelBus } from "../../shared/pixel-bus.js";
import type { CanvasClient, CanvasHead } from "../upstream/canvas-client.js";
import { CanvasRoom, type RoomHooks, type RoomOptions } from "./canvas-room.js";
import type { RoomSnapshot } from "./room-history.js";

/** Timing of room lifecycles. */
export interface RoomRegistryOptions extends RoomOptions {
  /** An empty room stays subscribed this long so reconnecting clients can still resume from its ring. */
  lingerMs: number;
  /** Deadline of each head read (GetTile of tile 0), and of the bus confirming a room's subscription. */
  snapshotTimeoutMs: number;
}

/** Batches in the first (newest) history window a new room reads; each older window doubles. */
const HISTORY_FIRST_WINDOW_BATCHES = 16n;

interface Entry {
  room: CanvasRoom;
  ready: Promise<void>;
  unsubscribe: () => void;
  linger?: NodeJS.Timeout;
}

/**
 * The rooms of this gateway, one per canvas with joined (or recently joined)
 * connections. The first acquire subscribes on the bus, waits until the bus confirmed
 * the subscription, and only then seeds the room with its head (GetTile): every batch stored
 * after the snapshot is then delivered, so the join is race-free by construction. The room is
 * joinable as soon as its head is known; the stored batches up to the head (WatchCanvas from
 * the history stream, bounded like the ring) are read in the background (see
 * HISTORY_SEED_DELAY_MS) and seed the room's
 * resume ring, so the clients of a gateway that died resume on this one instead of each
 * reading their tiles again. On a busy canvas that read takes seconds, which a new client's
 * Welcome does not wait for; a reconnecting client's Hello waits for it (CanvasRoom.seeded, bounded
 * by the read's deadline), and any other resume it has not yet covered gets a snapshot, as any
 * uncovered resume does.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Entry>();
  private readonly stopResubscribed: () => void;

  constructor(
    private readonly bus: PixelBus,
    private readonly canvas: Pick<CanvasClient, "getHead" | "recentBatches">,
    private readonly options: RoomRegistryOptions,
    private readonly hooks: RoomHooks,
    private readonly log: Logger,
    /** Called after a room was closed, e.g. to withdraw its presence entry. */
    private readonly onRoomClosed: (canvasId: string) => void = () => undefined,
  ) {
    // Pub/Sub may have lost messages while reconnecting: every room re-snapshots. The bus calls
    // this only once its subscriptions are active again, so the new snapshot misses nothing.
    this.stopResubscribed = bus.onResubscribed(() => {
      for (const { room } of this.rooms.values()) if (room.live) room.requestResync("bus_reconnect");
    });
  }

  /** The room of a canvas, seeded and ready to join; rejects with the head read's error (NotFound for an unknown canvas). */
  async acquire(canvasId: string): Promise<CanvasRoom> {
    const existing = this.rooms.get(canvasId);
    if (existing) {
      clearTimeout(existing.linger);
      existing.linger = undefined;
      await existing.ready;
      return existing.room;
    }
    const room = new CanvasRoom(canvasId, () => this.snapshotWithHistory(canvasId), this.options, this.hooks, this.log);
    const subscription = this.bus.subscribe(canvasId, (payload) => room.onBatch(payload));
    const ready = this.confirmed(canvasId, subscription.ready).then(() => room.load());
    const entry: Entry = { room, ready, unsubscribe: subscription.unsubscribe };
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
   * The head, with a read of the batches leading up to it for the room to start; without them (history gone,
   * deadline, another epoch) the room keeps a ring of only the batches since the head.
   */
  private async snapshotWithHistory(canvasId: string): Promise<RoomSnapshot> {
    const head = await this.canvas.getHead(canvasId, this.options.snapshotTimeoutMs);
    return { ...head, history: () => this.history(head) };
  }

  /**
   * The newest stored batches up to the head within the ring's bounds, read newest window first
   * (HISTORY_FIRST_WINDOW_BATCHES, doubling): with large batches the byte bound is reached long
   * before ringMaxBatches, and every batch read costs a decode on the canvas service and here,
   * which a room opened during a join burst competes with. A failed window ends the read with the
   * newer windows already read, which still end at the head.
   */
  private async history(snap: CanvasHead): Promise<Uint8Array[]> {
    // Seq 1 cannot be asked for (after_seq 0 means live only), so a canvas at seq 1 seeds nothing.
    if (!this.canvas.recentBatches || snap.seq < 2n) return [];
    const span = BigInt(this.options.ringMaxBatches);
    const lowest = snap.seq > span ? snap.seq - span : 1n;
    const windows: Uint8Array[][] = [];
    let bytes = 0;
    let throughSeq = snap.seq;
    let window = HISTORY_FIRST_WINDOW_BATCHES;
    while (throughSeq > lowest && bytes < this.options.ringMaxBytes) {
      const afterSeq = throughSeq - window > lowest ? throughSeq - window : lowest;
      let batches: Uint8Array[];
      try {
        batches = await this.canvas.recentBatches({
          canvasId: snap.canvasId,
          afterSeq,
          throughSeq,
          epoch: snap.epoch,
          maxBytes: this.options.ringMaxBytes - bytes,
          timeoutMs: this.options.snapshotTimeoutMs,
        });
      } catch (err) {
        const error = ConnectError.from(err);
        this.log.info({ canvasId: snap.canvasId, code: Code[error.code], err: error.rawMessage }, "history for the resume ring ends early; reconnecting clients from before it get snapshots");
        break;
      }
      windows.unshift(batches);
      bytes += batches.reduce((sum, b) => sum + b.length, 0);
      // Trimmed to the byte bound: the batches before it would not fit either.
      if (BigInt(batches.length) < throughSeq - afterSeq) break;
      throughSeq = afterSeq;
      window *= 2n;
    }
    return windows.flat();
  }

  /** Waits for the bus to confirm a subscription, for at most snapshotTimeoutMs (Redis may be down). */
  private async confirmed(canvasId: string, ready: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ConnectError(`the pixel bus did not confirm the subscription to canvas "${canvasId}" within ${this.options.snapshotTimeoutMs} ms`, Code.Unavailable)),
        this.options.snapshotTimeoutMs,
      );
    });
    try {
      await Promise.race([ready.catch((err: Error) => Promise.reject(new ConnectError(`pixel bus subscription failed: ${err.message}`, Code.Unavailable))), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
