import type { RoomMember } from "./canvas-room.js";
import { FanoutTick, roomInterval, systemTickClock, type FanoutTickOptions, type TickClock } from "./fanout-tick.js";
import { coalescedFrame } from "../../../protocol/server-frames.js";
import type { RingEntry } from "./batch-ring.js";

/** A batch the room applied and has not sent yet. */
export interface PendingBatch {
  seq: bigint;
  /** Its frames and the level-0 tiles it touches (the entry the resume ring holds). */
  entry: RingEntry;
  pixelCount: number;
  timeUnixMs: bigint;
}

/** Observers of the fan-out, for metrics. */
export interface FanoutHooks {
  /** A batch went out in a flush: `sockets` sockets got its `pixels` pixels; `timeUnixMs` is when it was stored. */
  fannedOut(pixels: number, sockets: number, timeUnixMs: bigint): void;
  /** One encoded frame holding `batches` batches (1: a `batch` frame, more: `batches`) went to `sockets` sockets. */
  sentFrame?(batches: number, sockets: number): void;
}

/** Whether a batch touching `tiles` concerns a member watching `watch`. */
export function touchesWatched(tiles: readonly number[], watch: ReadonlySet<number>): boolean {
  if (watch.size === 0) return false;
  for (const tile of tiles) if (watch.has(tile)) return true;
  return false;
}

/**
 * The fan-out of one room: applied batches wait here until the room's FanoutTick flushes them.
 * Each member gets, per flush, ONE frame holding exactly the pending batches that touch a tile it
 * watches, in seq order. Members with the same subset of batches (the audience of that subset)
 * get the same Buffer, encoded once: a room whose members all watch the whole canvas encodes one
 * frame per flush as before, and a member watching one tile gets nothing for batches elsewhere.
 * A member that got a Welcome (join, resync) while batches were pending is recorded with the room
 * seq of that Welcome and gets only the pending batches after it: nothing twice, no gap.
 * Members holding acknowledgements (RoomMember.flushAcks) are flushed on the same tick: a member
 * with a frame of batches carries them in it, any other gets them alone, so under load a socket
 * gets at most one frame per flush whether it reads, places or both.
 */
export class RoomFanout {
  private pending: PendingBatch[] = [];
  /** Members welcomed while batches were pending, with the seq their Welcome covers. */
  private readonly caughtUpAt = new Map<RoomMember, bigint>();
  /** Each member's watched level-0 tiles; a member without an entry watches nothing. */
  private readonly watches = new Map<RoomMember, ReadonlySet<number>>();
  /** Members holding acknowledgements for the next flush. */
  private readonly acking = new Set<RoomMember>();
  private readonly tick: FanoutTick;

  constructor(
    private readonly members: ReadonlySet<RoomMember>,
    options: FanoutTickOptions,
    private readonly hooks: FanoutHooks,
    clock: TickClock = systemTickClock,
  ) {
    this.tick = new FanoutTick(() => this.flush(), roomInterval(() => this.members.size, options), clock);
  }

  /** Batches waiting for the next flush. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Queues an applied batch (seq after every pending one) and makes sure a flush is scheduled. */
  add(batch: PendingBatch): void {
    // Nobody watches it; the ring still holds it for a resume.
    if (this.watches.size === 0) return;
    this.pending.push(batch);
    this.tick.schedule();
  }

  /** `member` holds acknowledgements to send: they go in its frame of the next flush, or alone in it. */
  acksPending(member: RoomMember): void {
    this.acking.add(member);
    this.tick.schedule();
  }

  /** `member` was sent a Welcome covering everything up to `seq`. */
  caughtUp(member: RoomMember, seq: bigint): void {
    if (this.pending.length > 0) this.caughtUpAt.set(member, seq);
  }

  /**
   * Replaces `member`'s watched tiles. The pending batches under its old set are sent to it first
   * (to it alone: the rest of the room keeps its pace), so a tile watched before and after gets
   * every batch, and the new set applies from the room's current seq on.
   */
  watch(member: RoomMember, tiles: ReadonlySet<number>): void {
    const batches = this.pending;
    if (batches.length > 0) {
      const old = this.watches.get(member);
      const since = this.caughtUpAt.get(member);
      const subset = old ? batches.filter((b) => (since === undefined || b.seq > since) && touchesWatched(b.entry.tiles, old)) : [];
      if (subset.length > 0) {
        const sent = member.sendBatch(coalescedFrame(subset.map((b) => b.entry.frameFor(member.columns))));
        this.hooks.sentFrame?.(subset.length, sent ? 1 : 0);
        for (const b of subset) this.hooks.fannedOut(b.pixelCount, sent ? 1 : 0, b.timeUnixMs);
      }
      this.caughtUpAt.set(member, batches[batches.length - 1]!.seq);
    }
    if (tiles.size === 0) this.watches.delete(member);
    else this.watches.set(member, tiles);
  }

  /** The tiles `member` watches. */
  watchOf(member: RoomMember): ReadonlySet<number> {
    return this.watches.get(member) ?? NOTHING;
  }

  /** `member` left the room. */
  left(member: RoomMember): void {
    this.caughtUpAt.delete(member);
    this.acking.delete(member);
    this.watches.delete(member);
  }

  /** Sends everything pending now; the tick calls it, and the room before it re-snapshots or changes a watch. */
  flush(): void {
    const batches = this.pending;
    if (batches.length === 0 && this.acking.size === 0) return;
    this.tick.flushedNow();
    this.pending = [];
    if (batches.length > 0) this.flushBatches(batches);
    // Members that got a frame of batches carried their acks in it; the others get them alone.
    for (const member of this.acking) member.flushAcks();
    this.acking.clear();
  }

  private flushBatches(batches: PendingBatch[]): void {
    // One frame per distinct subset of batches (keyed by their indices) and form (pixels or
    // columns), shared by its audience.
    const frames = new Map<string, { frame: Buffer; count: number; indices: number[]; sockets: number }>();
    const sockets = new Array<number>(batches.length).fill(0);
    const indices: number[] = [];
    for (const [member, watch] of this.watches) {
      const since = this.caughtUpAt.size > 0 ? this.caughtUpAt.get(member) : undefined;
      indices.length = 0;
      for (let i = 0; i < batches.length; i++) {
        const b = batches[i]!;
        if ((since === undefined || b.seq > since) && touchesWatched(b.entry.tiles, watch)) indices.push(i);
      }
      if (indices.length === 0) continue;
      const columns = member.columns;
      // The whole flush is the usual subset: its keys are constants, so no string is built per member.
      const key = indices.length === batches.length ? (columns ? ALL_IN_COLUMNS : ALL_IN_PIXELS) : (columns ? "c" : "p") + indices.join(",");
      let entry = frames.get(key);
      if (!entry) {
        const subset = indices.map((i) => batches[i]!.entry.frameFor(columns));
        entry = { frame: coalescedFrame(subset), count: subset.length, indices: indices.slice(), sockets: 0 };
        frames.set(key, entry);
      }
      if (member.sendBatch(entry.frame)) entry.sockets++;
    }
    this.caughtUpAt.clear();
    for (const entry of frames.values()) {
      this.hooks.sentFrame?.(entry.count, entry.sockets);
      for (const i of entry.indices) sockets[i]! += entry.sockets;
    }
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      this.hooks.fannedOut(b.pixelCount, sockets[i]!, b.timeUnixMs);
    }
  }

  /** Forgets everything pending and stops the tick (the room is disposed). */
  clear(): void {
    this.tick.cancel();
    this.pending = [];
    this.caughtUpAt.clear();
    this.watches.clear();
    this.acking.clear();
  }
}

const NOTHING: ReadonlySet<number> = new Set();
const ALL_IN_PIXELS = "pall";
const ALL_IN_COLUMNS = "call";
