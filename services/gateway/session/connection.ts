import { CloseCode, ErrorCode } from "../../../gen/pixel/v1/realtime_pb.js";
import type { Logger } from "../../shared/logger.js";
import type { CanvasRoom, RoomMember } from "../room/canvas-room.js";
import * as metrics from "../gateway-metrics.js";
import { MAX_DEFERRED_FRAMES } from "../gateway-tuning.js";
import { ackFrame, errorFrame } from "../../../protocol/server-frames.js";
import { SOCKET_OPEN, type ClientSocket } from "./client-socket.js";
import { ClientRequests } from "./client-requests.js";
import type { ConnectionContext } from "./connection-context.js";
import { roomOf, type ConnectionState, type Joining } from "./connection-state.js";
import { dispatchClientFrame } from "./frame-dispatch.js";
import { Outbox } from "./outbox.js";
import { PendingAcks } from "./pending-acks.js";
import type { ConnectionIdentity } from "../transport/session-gate.js";

/**
 * One WebSocket client as a state machine (connection-state.ts): what it receives is served by
 * its ClientRequests, what it sends goes through its Outbox, and it is a member of at most one
 * room. It reads and writes only through ClientSocket, so it is testable without sockets.
 */
export class Connection implements RoomMember {
  /** Display name for presence ("" for anonymous). */
  name = "";
  /**
   * Who places through this socket, fixed for its life: set by the transport right after open from
   * the upgrade request (see session-gate.ts). Without a user id it may watch but not place; with
   * one, its Places are charged to that user's and its network's placement budgets.
   */
  identity: ConnectionIdentity = { userId: undefined, ipKey: "" };
  /** Set from the Hello: the client reads ServerFrame.acks (protocol 3) and the gateway coalesces acks. */
  coalescesAcks = false;
  /** Set from the Hello: the client speaks protocol 4 and gets its batches' pixels in PixelBatch.columns. */
  columns = false;
  private current: ConnectionState;
  private readonly acks = new PendingAcks();
  private readonly requests: ClientRequests;
  private readonly outbox: Outbox;
  private childLog: Logger | undefined;

  constructor(
    readonly id: string,
    readonly socket: ClientSocket,
    private readonly ctx: ConnectionContext,
  ) {
    this.requests = new ClientRequests(this, ctx);
    this.outbox = new Outbox(socket, ctx, (reason, queuedBytes) => {
      this.log.info({ queuedBytes, reason }, "send buffer full or not draining; closing");
      // The close frame waits behind a queue at its cap or not draining: no grace would let it arrive.
      this.forceClose(CloseCode.SLOW_CONSUMER, "not reading fast enough: send buffer full; reconnect to resync", reason, 0);
    });
    this.current = { kind: "awaiting-hello", helloTimer: this.startHelloTimer() };
  }

  /** The current state, for the gateway's monitors and for tests. */
  get state(): Readonly<ConnectionState> {
    return this.current;
  }

  /** This connection's logger (every line carries its id); made on first use, since most connections never log. */
  get log(): Logger {
    return (this.childLog ??= this.ctx.log.child({ connectionId: this.id }));
  }

  /**
   * Serves one WebSocket message: held back while a Hello is served, ignored once the gateway
   * decided to close, otherwise decoded and served. Never throws.
   */
  receive(data: Uint8Array, isBinary: boolean): void {
    const state = this.current;
    switch (state.kind) {
      case "closing":
      case "closed":
        // Served now, a Place would be stored but its Ack could no longer be sent.
        return;
      case "joining":
        // Frames pipelined after a Hello are served once the Welcome is out, in order.
        if (state.deferred.length >= MAX_DEFERRED_FRAMES) return this.forceClose(CloseCode.POLICY_VIOLATION, "too many frames before the Welcome", "deferred_frames");
        state.deferred.push({ data, isBinary });
        return;
      case "awaiting-hello":
      case "live":
      case "behind":
        return dispatchClientFrame(data, isBinary, this.requests);
      default: {
        const _exhaustive: never = state;
        return _exhaustive;
      }
    }
  }

  /** Sends any frame if the socket is open, within the outbox's bounds; `type` labels frames_out. */
  sendFrame(frame: Uint8Array, type: string): void {
    if (!this.writable()) {
      metrics.notOpenSkips.inc();
      return;
    }
    if (this.outbox.write(frame)) metrics.framesOut.labels(type).inc();
  }

  /**
   * Acknowledges a stored Place. With coalescing, a member of a room holds the ack for the room's
   * next fan-out flush (in its frame of batches, or alone), so Places completing together cost one
   * frame; otherwise, or outside a room, it goes at once as an `ack` frame.
   */
  ack(clientSeq: number, seq: bigint): void {
    const room = this.coalescesAcks ? roomOf(this.current) : undefined;
    if (room === undefined) return this.sendFrame(ackFrame(clientSeq, seq), "ack");
    this.acks.add(clientSeq, seq);
    room.acksPending(this);
  }

  flushAcks(): void {
    const frame = this.acks.takeFrame();
    if (frame) this.sendFrame(frame, "acks");
  }

  /** Sends an Error frame and counts it. */
  sendError(code: ErrorCode, message: string, clientSeq = 0, retryAfterMs = 0): void {
    metrics.errorsSent.labels(ErrorCode[code] ?? String(code)).inc();
    this.sendFrame(errorFrame(code, message, clientSeq, retryAfterMs), "error");
  }

  /** Closes the socket with a CloseCode and a reason (at most 123 bytes on the wire); frames after it are ignored. */
  close(code: CloseCode, reason: string): void {
    this.beginClose(code, reason, undefined);
  }

  /**
   * Closes for abuse or a full send buffer, then terminates after `graceMs`: such a client is
   * unlikely to answer the close frame, and ws would otherwise hold its buffers for 30 s.
   */
  forceClose(code: CloseCode, reason: string, abuse: metrics.AbuseReason, graceMs = this.ctx.forcedCloseGraceMs): void {
    if (!this.writable()) return;
    metrics.abuseCloses.labels(abuse).inc();
    const terminateTimer = setTimeout(() => this.socket.terminate(), graceMs);
    terminateTimer.unref();
    this.beginClose(code, reason, terminateTimer);
  }

  /** A Hello passed its checks: leave the current room (if any) and hold frames until it is served. */
  beginJoin(): Joining {
    const joining: Joining = { kind: "joining", deferred: [] };
    this.transition(joining);
    return joining;
  }

  /** The room of a join loaded: live in it, unless the connection closed meanwhile (false). */
  joined(joining: Joining, room: CanvasRoom): boolean {
    if (this.current !== joining) return false;
    this.transition({ kind: "live", room });
    return true;
  }

  /** The room of a join could not be loaded: back to awaiting a Hello, unless closed meanwhile (false). */
  joinFailed(joining: Joining): boolean {
    if (this.current !== joining) return false;
    this.transition({ kind: "awaiting-hello", helloTimer: this.startHelloTimer() });
    return true;
  }

  sendBatch(frame: Buffer): boolean {
    const state = this.current;
    switch (state.kind) {
      case "live":
        if (this.socket.readyState !== SOCKET_OPEN) {
          metrics.notOpenSkips.inc();
          return false;
        }
        if (this.socket.queuedBytes > this.slowBound()) {
          // Stop feeding it: the room moves on, this socket gets a fresh Welcome once drained.
          metrics.slowConsumerSkips.inc();
          this.transition({ kind: "behind", room: state.room, since: Date.now() });
          return false;
        }
        return this.outbox.write(this.acks.appendTo(frame));
      case "behind":
        metrics.slowConsumerSkips.inc();
        return false;
      case "awaiting-hello":
      case "joining":
      case "closing":
      case "closed":
        return false;
      default: {
        const _exhaustive: never = state;
        return _exhaustive;
      }
    }
  }

  send(frame: Uint8Array): void {
    if (this.current.kind === "live") this.sendFrame(frame, "presence");
  }

  onRoomReset(): void {
    // A member that is behind gets its Welcome when it drains.
    const state = this.current;
    if (state.kind === "live") this.sendFrame(state.room.welcomeFor(this, this.id), "welcome");
  }

  /**
   * Called by the slow-consumer monitor. Returns true when it is done watching this
   * connection (caught up and resynced, timed out and closed, or gone).
   */
  checkSlow(now: number, drainedBytes: number, timeoutMs: number): boolean {
    const state = this.current;
    if (state.kind !== "behind") return true;
    // Drained must sit well below the slow bound, or a socket would flap between the two.
    if (this.socket.queuedBytes <= Math.min(drainedBytes, this.slowBound() / 2)) {
      this.transition({ kind: "live", room: state.room });
      metrics.resyncs.labels("slow_consumer").inc();
      this.sendFrame(state.room.welcomeFor(this, this.id), "welcome");
      return true;
    }
    if (now - state.since > timeoutMs) {
      this.log.info({ queuedBytes: this.socket.queuedBytes }, "slow consumer did not catch up; closing");
      this.forceClose(CloseCode.SLOW_CONSUMER, "too slow to keep up with the canvas; reconnect to resync", "slow_consumer");
      return true;
    }
    return false;
  }

  /** The socket closed: leave the room and stop timers. */
  closed(): void {
    this.transition({ kind: "closed" });
  }

  /**
   * The only way between states. Leaving a state undoes what only it held (its timer, its room);
   * `closed` is final and `closing` leads only to `closed`, so nothing is served after a close.
   */
  private transition(next: ConnectionState): void {
    const prev = this.current;
    if (prev.kind === "closed" || (prev.kind === "closing" && next.kind !== "closed")) return;
    this.current = next;
    switch (prev.kind) {
      case "awaiting-hello":
        clearTimeout(prev.helloTimer);
        break;
      case "joining":
        // Whoever began the join serves its deferred frames once it settled.
        break;
      case "live":
      case "behind":
        if (roomOf(next) !== prev.room) {
          // Acks held for the old room's flush go now (a closed socket takes nothing).
          this.flushAcks();
          this.leaveRoom(prev.room);
        }
        break;
      case "closing":
        clearTimeout(prev.terminateTimer);
        break;
      default: {
        const _exhaustive: never = prev;
        return _exhaustive;
      }
    }
    if (next.kind === "behind") this.ctx.markSlow(this);
  }

  private beginClose(code: CloseCode, reason: string, terminateTimer: NodeJS.Timeout | undefined): void {
    const kind = this.current.kind;
    if (kind === "closing" || kind === "closed") {
      clearTimeout(terminateTimer);
      return;
    }
    // Acks held for the room's next flush go before the close frame: a Place stored before the
    // close (a drain waits for in-flight writes) is acknowledged, never left for the client to guess.
    this.flushAcks();
    this.socket.close(code, reason.slice(0, 120));
    this.transition({ kind: "closing", code, terminateTimer });
  }

  /** True while frames may still go out: the gateway has not decided to close and the socket is open. */
  private writable(): boolean {
    const kind = this.current.kind;
    return kind !== "closing" && kind !== "closed" && this.socket.readyState === SOCKET_OPEN;
  }

  private slowBound(): number {
    return this.ctx.slowConsumerBytes;
  }

  private leaveRoom(room: CanvasRoom): void {
    if (room.leave(this)) this.ctx.rooms.release(room);
    this.ctx.membersChanged();
  }

  private startHelloTimer(): NodeJS.Timeout {
    const timer = setTimeout(() => {
      // Leaving awaiting-hello clears this timer, so it fires only in that state.
      this.close(CloseCode.HELLO_TIMEOUT, `no Hello within ${this.ctx.helloTimeoutMs} ms`);
    }, this.ctx.helloTimeoutMs);
    timer.unref();
    return timer;
  }
}
