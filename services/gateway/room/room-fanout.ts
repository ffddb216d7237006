import type { RoomMember } from "./canvas-room.js";
import { FanoutTick, fanoutIntervalMs, systemTickClock, type FanoutTickOptions, type TickClock } from "./fanout-tick.js";
import { coalescedFrame } from "../../../protocol/server-frames.js";

/** A batch the room applied and has not sent yet. */
export interface PendingBatch {
  seq: bigint;
  /** Its `ServerFrame{batch}` frame (the one the resume ring holds). */
  frame: Buffer;
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

/**
 * The fan-out of one room: applied batches wait here until the room's FanoutTick flushes them,
 * and each flush sends every member ONE frame (encoded once, the same Buffer to every socket)
 * holding all of them in seq order. A member that got a Welcome (join, resync) while batches
 * were pending already has them (they were applied before its Welcome), so it is recorded with
 * the room seq of that Welcome and gets only the pending batches after it: nothing twice, no gap.
 */
export class RoomFanout {
  private pending: PendingBatch[] = [];
  /** Members welcomed while batches were pending, with the seq their Welcome (plus replay) covers. */
  private readonly caughtUpAt = new Map<RoomMember, bigint>();
  private readonly tick: FanoutTick;

  constructor(
    private readonly members: ReadonlySet<RoomMember>,
    options: FanoutTickOptions,
    private readonly hooks: FanoutHooks,
    clock: TickClock = systemTickClock,
  ) {
    this.tick = new FanoutTick(() => this.flush(), () => fanoutIntervalMs(this.members.size, options), clock);
  }

  /** Batches waiting for the next flush. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Queues an applied batch (seq after every pending one) and makes sure a flush is scheduled. */
  add(batch: PendingBatch): void {
    // Nobody to send it to; the ring still holds it for a resume.
    if (this.members.size === 0) return;
    this.pending.push(batch);
    this.tick.schedule();
  }

  /** `member` was sent a Welcome (and replay) covering everything up to `seq`. */
  caughtUp(member: RoomMember, seq: bigint): void {
    if (this.pending.length > 0) this.caughtUpAt.set(member, seq);
  }

  /** `member` left the room. */
  left(member: RoomMember): void {
    this.caughtUpAt.delete(member);
  }

  /** Sends everything pending now; the tick calls it, and the room before it re-snapshots. */
  flush(): void {
    const batches = this.pending;
    if (batches.length === 0) return;
    this.tick.flushedNow();
    this.pending = [];
    const full = coalescedFrame(batches.map((b) => b.frame));
    let sent = 0;
    // Frames for members caught up mid-tick, by the index of their first batch; rare.
    let partial: Map<number, { frame: Buffer; sockets: number }> | undefined;
    const lastSeq = batches[batches.length - 1]!.seq;
    for (const member of this.members) {
      const since = this.caughtUpAt.size > 0 ? this.caughtUpAt.get(member) : undefined;
      if (since === undefined) {
        if (member.sendBatch(full)) sent++;
        continue;
      }
      if (since >= lastSeq) continue;
      const from = batches.findIndex((b) => b.seq > since);
      partial ??= new Map();
      let entry = partial.get(from);
      if (!entry) partial.set(from, (entry = { frame: coalescedFrame(batches.slice(from).map((b) => b.frame)), sockets: 0 }));
      if (member.sendBatch(entry.frame)) entry.sockets++;
    }
    this.caughtUpAt.clear();
    this.hooks.sentFrame?.(batches.length, sent);
    // Sockets per batch: everyone who got the full frame, plus those whose partial frame held it.
    const sockets = new Array<number>(batches.length).fill(sent);
    for (const [from, entry] of partial ?? []) {
      this.hooks.sentFrame?.(batches.length - from, entry.sockets);
      for (let i = from; i < batches.length; i++) sockets[i]! += entry.sockets;
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
  }
}
