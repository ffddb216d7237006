import type { Logger } from "../../shared/logger.js";
import { BatchRing, RingEntry } from "./batch-ring.js";
import { batchContinuity } from "../../../protocol/batch-continuity.js";
import type { BatchHeader } from "../../../protocol/batch-scan.js";
import { systemTickClock, type FanoutTickOptions, type TickClock } from "./fanout-tick.js";
import { RoomFanout, touchesWatched, type FanoutHooks } from "./room-fanout.js";
import { RoomHistory, type RoomSnapshot } from "./room-history.js";
import { batchFrame, coalesceFrames, encodeWelcomeBody, welcomeFrame } from "../../../protocol/server-frames.js";
import { levelCount, TILE_SIZE, tileGridSize } from "../../../protocol/tile-grid.js";
import { batchTileKeys, PIXEL_PROTOCOL, scanBatchTiles } from "../../../protocol/tile-watch.js";

/** A joined connection as the room sees it: the socket stays behind this interface. */
export interface RoomMember {
  /** Display name ("" for anonymous), for presence. */
  readonly name: string;
  /** True when it speaks pixel protocol 4 or later: its batches carry PixelBatch.columns, not PixelBatch.pixels. */
  readonly columns: boolean;
  /** Writes one batch or coalesced-batches frame; returns true when it went to an open, keeping-up socket. */
  sendBatch(frame: Buffer): boolean;
  /** Writes any other frame (presence). */
  send(frame: Uint8Array): void;
  /** The room re-snapshotted: the member must send itself a fresh Welcome from the room now. */
  onRoomReset(): void;
  /** Sends the acks it holds (see acksPending) as a frame of their own, if it still holds any. */
  flushAcks(): void;
}

/** Why a room re-snapshotted; the `reason` label of pixel_gateway_resyncs_total. */
export type ResyncReason = "gap" | "epoch" | "bus_reconnect" | "malformed_batch" | "backlog_overflow";

/** Observers for metrics; the room itself knows nothing about Prometheus. */
export interface RoomHooks extends FanoutHooks {
  resynced(reason: ResyncReason): void;
}

/** A resume replay is sent as coalesced frames of about this many bytes at most. */
const REPLAY_FRAME_MAX_BYTES = 256 * 1024;

/** Bounds, the fan-out tick, and the limits a Welcome advertises. */
export interface RoomOptions extends FanoutTickOptions {
  ringMaxBatches: number;
  ringMaxBytes: number;
  /** Batches buffered while a snapshot is loading; beyond it they are dropped and the room snapshots again. */
  backlogMaxBatches: number;
  maxPixelsPerPlace: number;
  pixelsPerSecond: number;
  /** Backoff between failed re-snapshots. */
  resyncRetryMs: number;
}

/** What a member gets for a Watch: the replayed frames to send first, then Watching at `seq`. */
export interface WatchResult {
  /** Frames of the batches after Watch.after_seq that touch the new set; empty unless `replayed`. */
  replay: Buffer[];
  replayed: boolean;
  seq: bigint;
  epoch: bigint;
}

type RoomState = "loading" | "live" | "resyncing" | "disposed";

/**
 * One canvas as this gateway sees it: where its history stands (`seq`, `epoch`), followed by
 * checking every published batch in order, a ring of recent frames for resume, and the joined
 * members with the tiles each watches. It holds no pixels (clients read tiles from the canvas
 * service), so its memory does not grow with the canvas. Each batch must be seq + 1 in the same
 * epoch; a duplicate is dropped and a gap or epoch change re-reads the head and gives every member
 * a fresh Welcome (the client then re-reads its tiles), so every member gets every batch touching
 * its tiles exactly once and in order. Batches are sent per flush of the room's fan-out tick (see
 * room-fanout.ts). It owns no sockets and no timers besides that tick and resync backoff.
 */
export class CanvasRoom {
  width = 0;
  height = 0;
  seq = 0n;
  epoch = 0n;
  /** Level-0 tile columns, for tile keys. */
  columns = 0;
  /** Level-0 tile rows. */
  rows = 0;
  private state: RoomState = "loading";
  private readonly ring: BatchRing;
  private readonly members = new Set<RoomMember>();
  /** Batches that arrived while a snapshot was loading, in arrival (= seq) order. */
  private backlog: { batch: BatchHeader; payload: Uint8Array }[] = [];
  private backlogOverflowed = false;
  private welcomeBody: Uint8Array | undefined;
  private readonly fanout: RoomFanout;
  private readonly history: RoomHistory;

  constructor(
    readonly canvasId: string,
    private readonly snapshot: () => Promise<RoomSnapshot>,
    private readonly options: RoomOptions,
    private readonly hooks: RoomHooks,
    private readonly log: Logger,
    tickClock: TickClock = systemTickClock,
  ) {
    this.ring = new BatchRing(options.ringMaxBatches, options.ringMaxBytes);
    this.fanout = new RoomFanout(this.members, options, hooks, tickClock);
    this.history = new RoomHistory(this, this.ring, log);
  }

  /** True once seeded and not re-snapshotting. */
  get live(): boolean {
    return this.state === "live";
  }

  /** True after dispose(); a disposed room must not be joined. */
  get disposed(): boolean {
    return this.state === "disposed";
  }

  /**
   * Starts the history read of the latest snapshot now if it has not started, and settles once
   * the history was put into the ring or given up on (its read has a deadline); at once when
   * there is none. A reconnecting client waits for it, so it resumes from the ring rather than
   * refetching its tiles; a new client need not.
   */
  get seeded(): Promise<void> {
    return this.history.seeded;
  }

  /** Joined members (read-only view for presence and shutdown). */
  get memberSet(): ReadonlySet<RoomMember> {
    return this.members;
  }

  /** Seeds the room with its first head read; rejects with the snapshot's error (e.g. NotFound). */
  async load(): Promise<void> {
    const snap = await this.snapshot();
    if (this.state !== "loading") return;
    if (!this.install(snap)) {
      // Batches that arrived meanwhile do not chain onto the snapshot: take another one.
      this.hooks.resynced("gap");
      void this.resync();
    }
  }

  /** Every published batch of this canvas, as the bus delivered it. */
  onBatch(payload: Uint8Array): void {
    if (this.state === "disposed") return;
    let scanned: { header: BatchHeader; tiles: number[] };
    try {
      // One pass for the header and the tiles. A batch buffered now (columns may still be 0 while
      // loading) has its tiles found again when the backlog is applied.
      scanned = scanBatchTiles(payload, this.columns);
    } catch (err) {
      this.log.error({ canvasId: this.canvasId, err: (err as Error).message }, "undecodable batch on the bus");
      this.requestResync("malformed_batch");
      return;
    }
    const batch = scanned.header;
    if (this.state !== "live") {
      this.buffer(batch, payload);
      return;
    }
    switch (batchContinuity(this, batch)) {
      case "apply":
        break;
      case "duplicate":
        return;
      case "gap":
        this.log.warn({ canvasId: this.canvasId, expected: String(this.seq + 1n), got: String(batch.seq) }, "seq gap; re-snapshotting");
        this.buffer(batch, payload);
        this.requestResync("gap");
        return;
      case "older-epoch":
      case "newer-epoch":
        this.buffer(batch, payload);
        this.requestResync("epoch");
        return;
    }
    const entry = this.apply(batch, payload, scanned.tiles);
    this.fanout.add({ seq: batch.seq, entry, pixelCount: batch.pixelCount, timeUnixMs: batch.timeUnixMs });
  }

  /** `member` holds acks for the next flush: they ride its frame of batches, or go alone in it. */
  acksPending(member: RoomMember): void {
    this.fanout.acksPending(member);
  }

  /** Sends the batches waiting for the fan-out tick now (tests; the room itself before a re-snapshot). */
  flush(): void {
    this.fanout.flush();
  }

  /**
   * Adds a member (watching nothing yet) and returns its Welcome, or undefined while the room is
   * re-snapshotting (onRoomReset delivers the Welcome then). Synchronous, so no batch slips in.
   */
  join(member: RoomMember, connectionId: string): Buffer | undefined {
    if (this.state === "disposed") throw new Error(`room ${this.canvasId} is disposed`);
    this.members.add(member);
    if (this.state !== "live") return undefined;
    return this.welcomeFor(member, connectionId);
  }

  /**
   * Replaces `member`'s watched tiles (keys as tileKey with `columns`) from the current seq on.
   * With (afterSeq, afterEpoch) in this epoch and covered by the ring, the batches after afterSeq
   * that touch the new set are returned for replay, so a reconnecting client keeps its tiles.
   */
  watch(member: RoomMember, tiles: ReadonlySet<number>, afterSeq: bigint, afterEpoch: bigint): WatchResult {
    this.fanout.watch(member, tiles);
    const at = { seq: this.seq, epoch: this.epoch };
    if (this.state !== "live" || afterSeq === 0n || afterEpoch !== this.epoch) return { replay: [], replayed: false, ...at };
    const entries = this.ring.since(afterSeq, this.seq);
    if (!entries) return { replay: [], replayed: false, ...at };
    const frames = entries.filter((e) => touchesWatched(e.tiles, tiles)).map((e) => e.frameFor(member.columns));
    return { replay: coalesceFrames(frames, REPLAY_FRAME_MAX_BYTES), replayed: true, ...at };
  }

  /** Removes a member; returns true when the room is now empty. */
  leave(member: RoomMember): boolean {
    this.members.delete(member);
    this.fanout.left(member);
    return this.members.size === 0;
  }

  /**
   * A Welcome for `member` at the current seq (no pixels: the client reads its tiles as of this
   * seq or later); the encoded body is cached until the next batch. The member must be sent it
   * now: the pending flush then skips what it covers.
   */
  welcomeFor(member: RoomMember, connectionId: string): Buffer {
    this.fanout.caughtUp(member, this.seq);
    this.welcomeBody ??= encodeWelcomeBody({ ...this.limits(), seq: this.seq });
    return welcomeFrame(this.welcomeBody, connectionId);
  }

  /** Sends one frame to every member (presence). */
  broadcast(frame: Uint8Array): void {
    for (const member of this.members) member.send(frame);
  }

  /** Re-snapshots from the canvas service and then gives every member a fresh Welcome. */
  requestResync(reason: ResyncReason): void {
    if (this.state === "resyncing" || this.state === "disposed") return;
    if (this.state === "loading") {
      // load() is still fetching; it checks this flag once its snapshot lands.
      this.backlogOverflowed = true;
      return;
    }
    // What was applied before the gap goes out now, as it would have without the resync.
    this.fanout.flush();
    this.state = "resyncing";
    this.hooks.resynced(reason);
    void this.resync();
  }

  /** Stops the room; members must already have been told. */
  dispose(): void {
    this.state = "disposed";
    this.history.stop();
    this.fanout.clear();
    this.members.clear();
    this.backlog = [];
  }

  private async resync(): Promise<void> {
    while (this.state === "resyncing") {
      let snap: RoomSnapshot;
      try {
        snap = await this.snapshot();
      } catch (err) {
        this.log.warn({ canvasId: this.canvasId, err: (err as Error).message }, "re-snapshot failed; retrying");
        await new Promise((r) => setTimeout(r, this.options.resyncRetryMs));
        continue;
      }
      if (this.state !== "resyncing") return;
      if (this.install(snap)) {
        for (const member of this.members) member.onRoomReset();
        return;
      }
    }
  }

  /**
   * Replaces the state with a snapshot and applies the backlog on top of it. Returns
   * true when the room is live, false when the backlog does not chain (then the caller
   * snapshots again).
   */
  private install(snap: RoomSnapshot): boolean {
    const backlog = this.backlog;
    const overflowed = this.backlogOverflowed;
    this.backlog = [];
    this.backlogOverflowed = false;
    this.width = snap.width;
    this.height = snap.height;
    this.seq = snap.seq;
    this.epoch = snap.epoch;
    const grid = tileGridSize(snap.width, snap.height);
    this.columns = grid.columns;
    this.rows = grid.rows;
    this.welcomeBody = undefined;
    this.ring.clear();
    this.history.installed(snap, this.columns);
    if (overflowed) {
      this.state = "resyncing";
      return false;
    }
    for (const { batch, payload } of backlog) {
      const continuity = batchContinuity(this, batch);
      // What the snapshot already covers, or older history, is dropped; anything but seq + 1 re-snapshots.
      if (continuity === "duplicate" || continuity === "older-epoch") continue;
      if (continuity !== "apply") {
        this.state = "resyncing";
        return false;
      }
      this.apply(batch, payload);
    }
    this.state = "live";
    return true;
  }

  private buffer(batch: BatchHeader, payload: Uint8Array): void {
    if (this.backlog.length >= this.options.backlogMaxBatches) {
      this.backlog = [];
      this.backlogOverflowed = true;
      return;
    }
    this.backlog.push({ batch, payload });
  }

  /** Advances seq and records the batch's frame with the tiles it touches (found now unless given). */
  private apply(batch: BatchHeader, payload: Uint8Array, tiles = batchTileKeys(payload, this.columns)): RingEntry {
    this.seq = batch.seq;
    this.welcomeBody = undefined;
    const entry = new RingEntry(batchFrame(payload), tiles);
    this.ring.push(batch.seq, entry);
    return entry;
  }

  private limits() {
    return {
      canvasId: this.canvasId,
      width: this.width,
      height: this.height,
      epoch: this.epoch,
      maxPixelsPerPlace: this.options.maxPixelsPerPlace,
      pixelsPerSecond: this.options.pixelsPerSecond,
      tileSize: TILE_SIZE,
      levelCount: levelCount(this.width, this.height),
      protocol: PIXEL_PROTOCOL,
    };
  }
}
