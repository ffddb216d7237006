import { CloseCode, ErrorCode, type Hello, type Watch } from "../../../gen/pixel/v1/realtime_pb.js";
import { CANVAS_ID_PATTERN, MAX_PIXELS_PER_PLACE, resolveCanvasId } from "../../shared/config.js";
import { validateName, validatePixels, type PixelLike } from "../../../protocol/pixel-validation.js";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CanvasRoom } from "../room/canvas-room.js";
import * as metrics from "../gateway-metrics.js";
import { HELLO_BURST, HELLOS_PER_SECOND } from "../gateway-tuning.js";
import { TokenBucket } from "./rate-limiter.js";
import { batchFrameType, pongFrame, watchingFrame } from "../../../protocol/server-frames.js";
import { COLUMNS_PROTOCOL } from "../../../protocol/pixel-columns.js";
import { ACKS_PROTOCOL, MAX_WATCHED_TILES, MIN_PIXEL_PROTOCOL, PIXEL_PROTOCOL, tileKey } from "../../../protocol/tile-watch.js";
import { AbuseGuard, MAX_MALFORMED_FRAMES } from "./abuse-guard.js";
import type { Connection } from "./connection.js";
import type { ConnectionContext } from "./connection-context.js";
import { roomOf, type Joining } from "./connection-state.js";
import type { ClientFrameHandlers } from "./frame-dispatch.js";

/**
 * Serves what one client asks for (Hello, Place, SetName, Ping, Watch) under its limits: the pixel and
 * Hello rate limits, and the abuse policy (malformed and refused frames, then 1008). State
 * changes go through its connection's transitions; this class holds no state of the socket.
 */
export class ClientRequests implements ClientFrameHandlers {
  private readonly bucket: TokenBucket;
  private readonly helloBucket = new TokenBucket(HELLOS_PER_SECOND, HELLO_BURST);
  private readonly abuse: AbuseGuard;

  constructor(
    private readonly conn: Connection,
    private readonly ctx: ConnectionContext,
  ) {
    this.bucket = new TokenBucket(ctx.pixelsPerSecond, ctx.pixelBurst);
    this.abuse = new AbuseGuard(ctx.refusedFramesMax, ctx.refusedFramesWindowMs);
  }

  /** Serves a Hello: leaves the current room, joins the named one, then serves the frames that waited. */
  hello(hello: Hello): void {
    if (hello.protocol < MIN_PIXEL_PROTOCOL) {
      // A page from before tiles would wait forever for pixels in its Welcome: tell it to reload.
      this.conn.sendError(ErrorCode.UNSUPPORTED_PROTOCOL, `this gateway speaks pixel protocol ${MIN_PIXEL_PROTOCOL} to ${PIXEL_PROTOCOL} (tiles); Hello.protocol was ${hello.protocol}: reload the page`);
      return this.conn.close(CloseCode.PROTOCOL_TOO_OLD, `reload: this server speaks pixel protocol ${MIN_PIXEL_PROTOCOL} or later (tiles)`);
    }
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
    this.conn.name = hello.name;
    this.conn.coalescesAcks = this.ctx.coalesceAcks && hello.protocol >= ACKS_PROTOCOL;
    this.conn.columns = this.ctx.pixelColumns && hello.protocol >= COLUMNS_PROTOCOL;
    const joining = this.conn.beginJoin();
    this.join(joining, canvasId, hello).then(
      () => {
        for (const next of joining.deferred) this.conn.receive(next.data, next.isBinary);
      },
      (err: Error) => {
        this.conn.log.error({ err: err.message, stack: err.stack }, "Hello failed");
        this.conn.sendError(ErrorCode.INTERNAL, `internal error; see the gateway log for connection ${this.conn.id}`);
        // Its state is unknown after an unexpected fault: make the client start over.
        this.conn.close(CloseCode.INTERNAL_ERROR, "internal error");
      },
    );
  }

  /** Serves a Place: validated, rate-limited, then queued for SetPixels; acked once stored. */
  place(clientSeq: number, pixels: PixelLike[]): void {
    const room = roomOf(this.conn.state);
    if (room === undefined) return this.refuse(ErrorCode.NOT_JOINED, "send a Hello before placing pixels", clientSeq);
    const { userId, ipKey } = this.conn.identity;
    if (userId === undefined) return this.refuse(ErrorCode.UNAUTHENTICATED, "placing needs a session: POST /session (or reload the page) and reconnect; watching works without one", clientSeq);
    const problem = validatePixels(pixels, room.width, room.height, MAX_PIXELS_PER_PLACE);
    if (problem) return this.refuse(ErrorCode.INVALID_ARGUMENT, problem, clientSeq);
    if (this.ctx.draining()) return this.conn.sendError(ErrorCode.UNAVAILABLE, "the gateway is restarting; reconnect and place again", clientSeq);
    // Cheap flood protection per socket; the person's budget across every gateway is the canvas service's.
    if (!this.bucket.take(pixels.length)) {
      const wait = this.bucket.waitMs(pixels.length);
      return this.refuse(ErrorCode.RATE_LIMITED, `placing ${pixels.length} pixels exceeds ${this.ctx.pixelsPerSecond} pixels/s (burst ${this.ctx.pixelBurst}) per connection; nothing was stored`, clientSeq, wait);
    }
    const accepted = this.ctx.batcherFor(room.canvasId).enqueue({
      pixels,
      clientSeq,
      connectionId: this.conn.id,
      name: this.conn.name,
      userId,
      ipKey,
      settle: (result) => {
        if (result.ok) {
          metrics.pixelsPlaced.inc(pixels.length);
          this.conn.ack(clientSeq, result.seq);
        } else {
          this.conn.sendError(result.code, result.message, clientSeq, result.retryAfterMs);
        }
      },
    });
    if (!accepted) this.conn.sendError(ErrorCode.OVERLOADED, "the gateway's write queue for this canvas is full; nothing was stored, retry shortly", clientSeq);
  }

  /** Serves a SetName; presence shows it from the next refresh. */
  setName(name: string): void {
    if (roomOf(this.conn.state) === undefined) return this.refuse(ErrorCode.NOT_JOINED, "send a Hello before SetName");
    const problem = validateName(name);
    if (problem) return this.refuse(ErrorCode.INVALID_ARGUMENT, problem);
    this.conn.name = name;
  }

  /**
   * Serves a Watch: replaces the tiles whose batches this connection gets and answers Watching
   * with the seq the new set applies from, after any replay the room could offer.
   */
  watch(watch: Watch): void {
    const room = roomOf(this.conn.state);
    if (room === undefined) return this.refuse(ErrorCode.NOT_JOINED, "send a Hello before Watch");
    const tiles = new Set<number>();
    for (const { tx, ty } of watch.tiles) {
      if (tx >= room.columns || ty >= room.rows) {
        return this.refuse(ErrorCode.INVALID_ARGUMENT, `tile ${tx}:${ty} is outside the canvas's ${room.columns}x${room.rows} level-0 tiles`);
      }
      tiles.add(tileKey({ tx, ty }, room.columns));
    }
    if (tiles.size > MAX_WATCHED_TILES) return this.refuse(ErrorCode.INVALID_ARGUMENT, `Watch names ${tiles.size} tiles; at most ${MAX_WATCHED_TILES} are allowed`);
    const result = room.watch(this.conn, tiles, watch.afterSeq, watch.afterEpoch);
    for (const frame of result.replay) this.conn.sendFrame(frame, batchFrameType(frame));
    this.conn.sendFrame(watchingFrame(result.seq, result.epoch, result.replayed), "watching");
  }

  /** Serves a Ping. */
  ping(nonce: bigint): void {
    this.conn.sendFrame(pongFrame(nonce), "pong");
  }

  /** Refuses a Place with too many pixels or a value above uint32 (INVALID_ARGUMENT, never truncated). */
  invalidPlace(clientSeq: number, message: string): void {
    this.refuse(ErrorCode.INVALID_ARGUMENT, message, clientSeq);
  }

  /** Answers MALFORMED_FRAME; the MAX_MALFORMED_FRAMES-th closes with 1008. */
  malformed(message: string): void {
    const tooMany = this.abuse.malformed();
    this.conn.sendError(ErrorCode.MALFORMED_FRAME, message);
    if (tooMany) this.conn.forceClose(CloseCode.POLICY_VIOLATION, `${MAX_MALFORMED_FRAMES} malformed frames`, "malformed_frames");
  }

  /**
   * Refuses a client's frame (INVALID_ARGUMENT, RATE_LIMITED, NOT_JOINED, ...) with an Error;
   * more than refusedFramesMax in one window is abuse, closed with 1008.
   */
  private refuse(code: ErrorCode, message: string, clientSeq = 0, retryAfterMs = 0): void {
    if (this.abuse.refused(Date.now())) {
      const reason = `more than ${this.ctx.refusedFramesMax} refused frames within ${this.ctx.refusedFramesWindowMs} ms`;
      return this.conn.forceClose(CloseCode.POLICY_VIOLATION, reason, "refused_frames");
    }
    this.conn.sendError(code, message, clientSeq, retryAfterMs);
  }

  private async join(joining: Joining, canvasId: string, hello: Hello): Promise<void> {
    let room: CanvasRoom;
    try {
      room = await this.ctx.rooms.acquire(canvasId);
      if (hello.lastSeq > 0n) {
        // A reconnecting client resumes from the ring: in a room just opened, the history seeding it may still be in flight.
        await room.seeded;
        // Emptied and closed meanwhile (this connection is not a member yet): join the canvas's room anew.
        if (room.disposed) room = await this.ctx.rooms.acquire(canvasId);
      }
    } catch (err) {
      if (!this.conn.joinFailed(joining)) return;
      const error = ConnectError.from(err);
      if (error.code === Code.NotFound) return this.conn.sendError(ErrorCode.NOT_FOUND, `canvas "${canvasId}" does not exist`);
      this.conn.log.debug({ canvasId, code: Code[error.code] }, "cannot load canvas for Hello");
      return this.conn.sendError(ErrorCode.UNAVAILABLE, `canvas "${canvasId}" cannot be loaded right now; retry the Hello`);
    }
    if (!this.conn.joined(joining, room)) {
      // Closed while the room loaded.
      this.ctx.rooms.release(room);
      return;
    }
    const welcome = room.join(this.conn, this.conn.id);
    if (welcome) this.conn.sendFrame(welcome, "welcome");
    const presence = this.ctx.presenceFrame(canvasId);
    if (presence) this.conn.sendFrame(presence, "presence");
    this.ctx.membersChanged();
    this.conn.log.debug({ canvasId, lastSeq: String(hello.lastSeq), seq: String(room.seq) }, "joined");
  }
}
