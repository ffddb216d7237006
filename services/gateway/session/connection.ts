import { CloseCode, ErrorCode, type Hello } from "../../../gen/pixel/v1/realtime_pb.js";
import { CANVAS_ID_PATTERN, MAX_PIXELS_PER_PLACE, resolveCanvasId } from "../../shared/config.js";
import type { Logger } from "../../shared/logger.js";
import { validateName, validatePixels, type PixelLike } from "../../../protocol/pixel-validation.js";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CanvasRoom, RoomMember } from "../room/canvas-room.js";
import * as metrics from "../gateway-metrics.js";
import { TokenBucket } from "./rate-limiter.js";
import type { RoomRegistry } from "../room/room-registry.js";
import { ackFrame, batchFrameType, errorFrame, pongFrame } from "../../../protocol/server-frames.js";
import type { WriteBatcher } from "../upstream/write-batcher.js";

/** ws's WebSocket.OPEN. */
const OPEN = 1;

/** The slice of a ws WebSocket a connection uses; tests pass a fake. */
export interface ClientSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Destroys the socket without a close handshake. */
  terminate(): void;
}

/** What every connection of a gateway shares. */
export interface ConnectionContext {
  log: Logger;
  rooms: RoomRegistry;
  batcherFor(canvasId: string): WriteBatcher;
  pixelsPerSecond: number;
  pixelBurst: number;
  /** Bytes a socket may have buffered above its room's snapshot size before it counts as slow. */
  slowConsumerBytes: number;
  /** Hard cap on a socket's buffered bytes beyond two snapshots, for every frame (see gateway-tuning.ts). */
  sendBufferMaxBytes: number;
  /** A socket closed by force (abuse, full buffer) is terminated this long after its close frame. */
  forcedCloseGraceMs: number;
  /** Refused frames allowed per window before closing with 1008. */
  refusedFramesMax: number;
  refusedFramesWindowMs: number;
  /** Starts watching a socket that fell behind. */
  markSlow(connection: Connection): void;
  /** The last Presence frame of a canvas, sent to a member right after its Welcome. */
  presenceFrame(canvasId: string): Uint8Array | undefined;
  /** A member joined or left: presence is re-published soon, so everyone sees the change. */
  membersChanged(): void;
  /** True while the gateway is shutting down: no new placements. */
  draining(): boolean;
  helloTimeoutMs: number;
}

/**
 * The states of one socket. `awaiting-hello`: connected, not joined. `joining`: a Hello
 * is being served; later frames wait. `live`: joined, receiving batches. `behind`:
 * joined but skipping batches until its send buffer drains, then resynced. `closed`.
 */
export type ConnectionState = "awaiting-hello" | "joining" | "live" | "behind" | "closed";

/** Hellos a connection may send in a burst, and per second after it: each may cost a whole snapshot. */
const HELLO_BURST = 5;
const HELLOS_PER_SECOND = 0.5;

/** Frames that may wait while a Hello is being served; more is abuse. */
const MAX_DEFERRED_FRAMES = 64;

/**
 * One WebSocket client: its state machine, its rate limit, and what it says to its
 * room. It never touches ws directly beyond ClientSocket, so it is testable without sockets.
 */
export class Connection implements RoomMember {
  state: ConnectionState = "awaiting-hello";
  name = "";
  /** Set by the heartbeat on pong, cleared on ping. */
  alive = true;
  /** When it fell behind (state `behind`). */
  behindSince = 0;
  room: CanvasRoom | undefined;
  private readonly bucket: TokenBucket;
  private readonly helloBucket = new TokenBucket(HELLOS_PER_SECOND, HELLO_BURST);
  /** Made only when a frame arrives during a join, which most connections never see. */
  private deferred: { data: Uint8Array; isBinary: boolean }[] | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  /** Malformed frames so far; see frame-handler.ts. */
  malformedCount = 0;
  /** Refused frames in the current window, and when that window began. */
  private refusedCount = 0;
  private refusedWindowStart = 0;

  private childLog: Logger | undefined;

  constructor(
    readonly id: string,
    readonly socket: ClientSocket,
    private readonly ctx: ConnectionContext,
  ) {
    this.bucket = new TokenBucket(ctx.pixelsPerSecond, ctx.pixelBurst);
    this.armHelloTimer();
  }

  /** This connection's logger (every line carries its id); made on first use, since most connections never log. */
  get log(): Logger {
    return (this.childLog ??= this.ctx.log.child({ connectionId: this.id }));
  }

  /**
   * Sends any frame if the socket is open; `type` labels frames_out. A frame that would take
   * the socket's buffer past the hard cap is not sent: the socket is closed with 4001, so a
   * client that stops reading (and keeps writing) can never grow the gateway's memory.
   */
  sendFrame(frame: Uint8Array, type: string): void {
    if (this.socket.readyState !== OPEN) {
      metrics.notOpenSkips.inc();
      return;
    }
    // Two snapshots: a live socket may still hold its first Welcome when a room reset sends another.
    if (this.socket.bufferedAmount + frame.length > this.ctx.sendBufferMaxBytes + 2 * (this.room?.canvasBytes ?? 0)) {
      metrics.sendBufferFullSkips.inc();
      this.log.info({ bufferedAmount: this.socket.bufferedAmount, type }, "send buffer over the cap; closing");
      this.forceClose(CloseCode.SLOW_CONSUMER, "not reading fast enough: send buffer full; reconnect to resync");
      return;
    }
    this.socket.send(frame);
    metrics.framesOut.labels(type).inc();
  }

  /** Sends an Error frame and counts it. */
  sendError(code: ErrorCode, message: string, clientSeq = 0): void {
    metrics.errorsSent.labels(ErrorCode[code] ?? String(code)).inc();
    this.sendFrame(errorFrame(code, message, clientSeq), "error");
  }

  /**
   * Refuses a client's frame (INVALID_ARGUMENT, RATE_LIMITED, NOT_JOINED, ...) with an Error and
   * counts it: more than refusedFramesMax in one window is abuse, closed with 1008, because every
   * refusal costs the gateway an Error frame however cheap the frame that caused it.
   */
  refuse(code: ErrorCode, message: string, clientSeq = 0): void {
    const now = Date.now();
    if (now - this.refusedWindowStart >= this.ctx.refusedFramesWindowMs) {
      this.refusedWindowStart = now;
      this.refusedCount = 0;
    }
    if (++this.refusedCount > this.ctx.refusedFramesMax) {
      metrics.abuseCloses.labels("refused_frames").inc();
      this.forceClose(CloseCode.POLICY_VIOLATION, `more than ${this.ctx.refusedFramesMax} refused frames within ${this.ctx.refusedFramesWindowMs} ms`);
      return;
    }
    this.sendError(code, message, clientSeq);
  }

  /** Closes the socket with a CloseCode and a reason (at most 123 bytes on the wire). */
  close(code: CloseCode, reason: string): void {
    if (this.state === "closed") return;
    this.socket.close(code, reason.slice(0, 120));
  }

  /**
   * Closes, then terminates after the grace time: a client that is flooding or not reading is
   * unlikely to answer the close frame, and ws would otherwise hold its buffers for 30 s.
   */
  forceClose(code: CloseCode, reason: string): void {
    if (this.state === "closed" || this.socket.readyState !== OPEN) return;
    this.close(code, reason);
    setTimeout(() => {
      if (this.state !== "closed") this.socket.terminate();
    }, this.ctx.forcedCloseGraceMs).unref();
  }

  /** A frame is being held back while a Hello is served; returns false when too many wait. */
  defer(data: Uint8Array, isBinary: boolean): boolean {
    this.deferred ??= [];
    if (this.deferred.length >= MAX_DEFERRED_FRAMES) return false;
    this.deferred.push({ data, isBinary });
    return true;
  }

  /** Takes the frames held back during a join, in arrival order. */
  takeDeferred(): { data: Uint8Array; isBinary: boolean }[] {
    const frames = this.deferred ?? [];
    this.deferred = undefined;
    return frames;
  }

  /** Serves a Hello: leaves the current room, joins the named one, sends the Welcome and what follows. */
  async hello(hello: Hello): Promise<void> {
    const canvasId = resolveCanvasId(hello.canvasId);
    if (!CANVAS_ID_PATTERN.test(canvasId)) {
      return this.refuse(ErrorCode.NOT_FOUND, `canvas "${canvasId.slice(0, 40)}" does not exist: ids match ${CANVAS_ID_PATTERN}`);
    }
    const nameProblem = validateName(hello.name);
    if (nameProblem) return this.refuse(ErrorCode.INVALID_ARGUMENT, nameProblem);
    if (!this.helloBucket.take(1)) {
      return this.refuse(ErrorCode.RATE_LIMITED, `too many Hellos: at most ${HELLO_BURST} at once and one per ${1 / HELLOS_PER_SECOND} s after that`);
    }
    if (hello.lastSeq > 0n) metrics.reconnects.inc();
    this.leaveRoom();
    this.name = hello.name;
    this.state = "joining";
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    let room: CanvasRoom;
    try {
      room = await this.ctx.rooms.acquire(canvasId);
    } catch (err) {
      if (this.isClosed()) return;
      this.state = "awaiting-hello";
      this.armHelloTimer();
      const error = ConnectError.from(err);
      if (error.code === Code.NotFound) return this.sendError(ErrorCode.NOT_FOUND, `canvas "${canvasId}" does not exist`);
      this.log.debug({ canvasId, code: Code[error.code] }, "cannot load canvas for Hello");
      return this.sendError(ErrorCode.UNAVAILABLE, `canvas "${canvasId}" cannot be loaded right now; retry the Hello`);
    }
    if (this.isClosed()) {
      this.ctx.rooms.release(room);
      return;
    }
    this.room = room;
    this.state = "live";
    const joined = room.join(this, this.id, hello.lastSeq, hello.lastEpoch);
    if (joined.welcome) this.sendFrame(joined.welcome, "welcome");
    for (const frame of joined.replay) this.sendFrame(frame, batchFrameType(frame));
    const presence = this.ctx.presenceFrame(canvasId);
    if (presence) this.sendFrame(presence, "presence");
    this.ctx.membersChanged();
    this.log.debug({ canvasId, resumed: joined.resumed, lastSeq: String(hello.lastSeq), seq: String(room.seq) }, "joined");
  }

  /** Serves a Place: validate, rate-limit, queue; the Ack or Error follows from the batcher. */
  place(clientSeq: number, pixels: PixelLike[]): void {
    const room = this.room;
    if (!room || (this.state !== "live" && this.state !== "behind")) {
      return this.refuse(ErrorCode.NOT_JOINED, "send a Hello before placing pixels", clientSeq);
    }
    const problem = validatePixels(pixels, room.width, room.height, MAX_PIXELS_PER_PLACE);
    if (problem) return this.refuse(ErrorCode.INVALID_ARGUMENT, problem, clientSeq);
    if (this.ctx.draining()) return this.sendError(ErrorCode.UNAVAILABLE, "the gateway is restarting; reconnect and place again", clientSeq);
    if (!this.bucket.take(pixels.length)) {
      return this.refuse(ErrorCode.RATE_LIMITED, `placing ${pixels.length} pixels exceeds ${this.ctx.pixelsPerSecond} pixels/s (burst ${this.ctx.pixelBurst}); nothing was stored`, clientSeq);
    }
    const accepted = this.ctx.batcherFor(room.canvasId).enqueue({
      pixels,
      clientSeq,
      connectionId: this.id,
      name: this.name,
      settle: (result) => {
        if (result.ok) {
          metrics.pixelsPlaced.inc(pixels.length);
          this.sendFrame(ackFrame(clientSeq, result.seq), "ack");
        } else {
          this.sendError(result.code, result.message, clientSeq);
        }
      },
    });
    if (!accepted) this.sendError(ErrorCode.OVERLOADED, "the gateway's write queue for this canvas is full; nothing was stored, retry shortly", clientSeq);
  }

  /** Serves a SetName; presence shows it from the next refresh. */
  setName(name: string): void {
    if (this.state !== "live" && this.state !== "behind") return this.refuse(ErrorCode.NOT_JOINED, "send a Hello before SetName");
    const problem = validateName(name);
    if (problem) return this.refuse(ErrorCode.INVALID_ARGUMENT, problem);
    this.name = name;
  }

  /** Serves a Ping. */
  ping(nonce: bigint): void {
    this.sendFrame(pongFrame(nonce), "pong");
  }

  sendBatch(frame: Buffer): boolean {
    switch (this.state) {
      case "live":
        if (this.socket.readyState !== OPEN) {
          metrics.notOpenSkips.inc();
          return false;
        }
        if (this.socket.bufferedAmount > this.slowBound()) {
          // Stop feeding it: the room moves on, this socket gets a fresh Welcome once drained.
          this.state = "behind";
          this.behindSince = Date.now();
          metrics.slowConsumerSkips.inc();
          this.ctx.markSlow(this);
          return false;
        }
        this.socket.send(frame);
        return true;
      case "behind":
        metrics.slowConsumerSkips.inc();
        return false;
      case "awaiting-hello":
      case "joining":
      case "closed":
        return false;
    }
  }

  send(frame: Uint8Array): void {
    if (this.state === "live") this.sendFrame(frame, "presence");
  }

  onRoomReset(): void {
    // A member that is behind gets its Welcome when it drains.
    if (this.state === "live" && this.room) this.sendFrame(this.room.welcomeFor(this, this.id), "welcome");
  }

  /**
   * Called by the slow-consumer monitor. Returns true when it is done watching this
   * connection (caught up and resynced, timed out and closed, or gone).
   */
  checkSlow(now: number, drainedBytes: number, timeoutMs: number): boolean {
    if (this.state !== "behind" || !this.room) return true;
    // Drained must sit well below the slow bound, or a socket would flap between the two.
    if (this.socket.bufferedAmount <= Math.min(drainedBytes, this.slowBound() / 2)) {
      this.state = "live";
      metrics.resyncs.labels("slow_consumer").inc();
      this.sendFrame(this.room.welcomeFor(this, this.id), "welcome");
      return true;
    }
    if (now - this.behindSince > timeoutMs) {
      this.log.info({ bufferedAmount: this.socket.bufferedAmount }, "slow consumer did not catch up; closing");
      this.forceClose(CloseCode.SLOW_CONSUMER, "too slow to keep up with the canvas; reconnect to resync");
      return true;
    }
    return false;
  }

  /** The socket closed: leave the room and stop timers. */
  closed(): void {
    this.state = "closed";
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.deferred = undefined;
    this.leaveRoom();
  }

  /** A method, not a field read, because the state changes across the awaits of hello(). */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  private slowBound(): number {
    return this.ctx.slowConsumerBytes + (this.room?.canvasBytes ?? 0);
  }

  private leaveRoom(): void {
    const room = this.room;
    if (!room) return;
    this.room = undefined;
    if (room.leave(this)) this.ctx.rooms.release(room);
    this.ctx.membersChanged();
  }

  private armHelloTimer(): void {
    clearTimeout(this.helloTimer);
    this.helloTimer = setTimeout(() => {
      if (this.state === "awaiting-hello") this.close(CloseCode.HELLO_TIMEOUT, `no Hello within ${this.ctx.helloTimeoutMs} ms`);
    }, this.ctx.helloTimeoutMs);
    this.helloTimer.unref();
  }
}
