import type { PixelBatch } from "../../../gen/pixel/v1/canvas_pb.js";
import { CloseCode, ErrorCode, type Ack, type ServerFrame, type Watching, type Welcome } from "../../../gen/pixel/v1/realtime_pb.js";
import { backoffDelayMs } from "./backoff.js";
import { CanvasState } from "./canvas-state.js";
import { systemClock, type Clock } from "./clock.js";
import { Emitter } from "./emitter.js";
import { decodeServerFrame, encodeClientFrame, helloFrame, pingFrame, placeFrame, setNameFrame, watchFrame } from "../../../protocol/frame-codec.js";
import { httpBaseOf, httpTileReader } from "./http-tile-reader.js";
import type { Rect } from "./rect.js";
import { WatchPlan } from "./watch-plan.js";
import { UINT32_MAX } from "../../../protocol/limits.js";
import { validatePixels, type PixelLike } from "../../../protocol/pixel-validation.js";
import { batchPixels } from "../../../protocol/pixel-columns.js";
import type { CanvasClientEvents, CanvasClientOptions, ConnectionState, PlaceLimits, PlaceResult } from "./canvas-client-types.js";
import type { SocketHandle } from "./socket.js";
import { CONNECT_TIMEOUT_MS, APP_PING_INTERVAL_MS, SILENT_SOCKET_TIMEOUT_MS, IMMEDIATE_RECONNECT_MIN_INTERVAL_MS, WATCH_DEBOUNCE_MS } from "./timing.js";

export type { CanvasChange, CanvasClientEvents, CanvasClientOptions, ConnectionState, PlaceLimits, PlaceResult } from "./canvas-client-types.js";

/**
 * A client of the realtime canvas protocol (3: tiles, acks coalesced into any frame): keeps the tiles it watches in step with
 * the gateway (read over HTTP, then kept current by the watch stream), reconnects and resumes by
 * itself, and shows the user's placements optimistically.
 */
export class CanvasClient {
  /** The canvas as the user sees it. */
  readonly canvas: CanvasState;
  private readonly events = new Emitter<CanvasClientEvents>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private currentState: ConnectionState = "idle";
  private socket: SocketHandle | undefined;
  /** Callbacks of a replaced socket carry an old generation and are ignored. */
  private generation = 0;
  private joined = false;
  private attempt = 0;
  private lastImmediateAt = -Infinity;
  private lastReceivedAt = 0;
  private reconnectTimer: unknown;
  private watchTimer: unknown;
  private readonly watches: WatchPlan;
  private connectTimer: unknown;
  private heartbeatTimer: unknown;
  private nextClientSeq = 1;
  /** Placements sent on the current socket and not yet answered: client_seq -> pixel count. */
  private readonly inFlight = new Map<number, number>();
  private name: string;
  private readonly canvasId: string;
  private currentLimits: PlaceLimits = { maxPixelsPerPlace: 0, pixelsPerSecond: 0 };
  private currentConnectionId = "";

  constructor(private readonly options: CanvasClientOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.name = options.name ?? "";
    this.canvasId = options.canvasId ?? "";
    this.watches = new WatchPlan(options.watchAll ?? false);
    const reader = options.tileReader ?? httpTileReader(options.tileBaseUrl ?? httpBaseOf(options.url), () => this.joinedCanvasId);
    this.canvas = new CanvasState(reader, this.clock, (rect) => this.events.emit("canvas", { full: false, rect }));
  }

  /** The canvas id the gateway named in its Welcome (the default canvas's name for an empty id). */
  private joinedCanvasId = "";

  /** The canvas joined, as the gateway named it ("" before the first Welcome): the path of its tiles. */
  get canvasName(): string {
    return this.joinedCanvasId;
  }

  /**
   * Watches the level-0 tiles under `rect` (canvas pixels) from now on, after WATCH_DEBOUNCE_MS of
   * rest so a pan sends one Watch; tiles that leave the view are dropped. Beyond the most tiles one
   * Watch may name, nothing is watched.
   */
  watchRegion(rect: Rect): void {
    // Frames redraw for every batch: only a view that needs other tiles restarts the wait.
    if (!this.watches.want(rect, this.canvas.width, this.canvas.height)) return;
    this.clock.clearTimeout(this.watchTimer);
    this.watchTimer = this.clock.setTimeout(() => this.sendWatchIfChanged(), WATCH_DEBOUNCE_MS);
  }

  /** The current connection state. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** Limits from the latest Welcome (zeros before the first). */
  get limits(): PlaceLimits {
    return this.currentLimits;
  }

  /** The gateway's id for the current connection, for support. */
  get connectionId(): string {
    return this.currentConnectionId;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof CanvasClientEvents>(name: K, listener: (event: CanvasClientEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }

  /** Opens the first connection. */
  start(): void {
    if (this.currentState !== "idle") return;
    this.setState("connecting", "start");
    this.openSocket();
  }

  /** Closes for good: no reconnects, no events after the final state change. */
  close(): void {
    if (this.currentState === "closed") return;
    this.dropSocket(CloseCode.NORMAL, "client closed");
    this.clock.clearTimeout(this.reconnectTimer);
    this.clock.clearTimeout(this.watchTimer);
    this.canvas.tiles.clear();
    this.setState("closed", "closed by the client");
  }

  /** Changes the display name, now if joined and in every later Hello. */
  setName(name: string): void {
    this.name = name;
    if (this.currentState === "live") this.send(encodeClientFrame(setNameFrame(name)));
  }

  /**
   * Paints pixels: split into Place frames of at most Welcome.max_pixels_per_place, drawn at once
   * on top of the canvas and rolled back if refused. While not live it refuses and draws nothing.
   * Rate pacing is the caller's job (see PixelPacer).
   */
  place(pixels: readonly PixelLike[]): PlaceResult {
    switch (this.currentState) {
      case "live":
        break;
      case "idle":
      case "connecting":
      case "resyncing":
      case "reconnecting":
      case "closed":
        return { ok: false, reason: "not-live", state: this.currentState };
    }
    // The gateway's own check; any number of pixels, since they are split into Places below.
    const problem = validatePixels(pixels, this.canvas.width, this.canvas.height, Infinity);
    if (problem) return { ok: false, reason: "invalid", message: problem };
    const chunk = Math.max(1, this.currentLimits.maxPixelsPerPlace);
    const placements: Array<{ clientSeq: number; pixels: number }> = [];
    for (let start = 0; start < pixels.length; start += chunk) {
      const part = pixels.slice(start, start + chunk);
      const clientSeq = this.takeClientSeq();
      const rect = this.canvas.addPending(clientSeq, part);
      this.inFlight.set(clientSeq, part.length);
      this.send(encodeClientFrame(placeFrame(clientSeq, part)));
      if (rect) this.events.emit("canvas", { full: false, rect });
      placements.push({ clientSeq, pixels: part.length });
    }
    return { ok: true, placements };
  }

  private takeClientSeq(): number {
    const seq = this.nextClientSeq;
    // client_seq is a uint32 and 0 means "no placement" in Error frames.
    this.nextClientSeq = seq >= UINT32_MAX ? 1 : seq + 1;
    return seq;
  }

  private setState(next: ConnectionState, reason: string): void {
    const previous = this.currentState;
    if (previous === next) return;
    this.currentState = next;
    this.events.emit("state", { state: next, previous, reason });
  }

  private openSocket(): void {
    const generation = ++this.generation;
    this.joined = false;
    this.lastReceivedAt = this.clock.now();
    const current = (): boolean => generation === this.generation;
    this.socket = this.options.socketFactory(this.options.url, {
      onOpen: () => {
        if (!current()) return;
        this.lastReceivedAt = this.clock.now();
        // last_seq only tells the gateway this is a reconnect; the resume point goes in the first
        // Watch, which names the tiles it concerns.
        const kept = this.canvas.tiles.size > 0;
        this.send(encodeClientFrame(helloFrame(this.canvasId, this.name, kept ? this.canvas.seq : 0n, kept ? this.canvas.epoch : 0n)));
        this.scheduleHeartbeat();
      },
      onMessage: (data) => {
        if (current()) this.receive(data);
      },
      onClose: (code, reason) => {
        if (!current()) return;
        this.socketLost(code, reason === "" ? `socket closed with ${code}` : `socket closed with ${code}: ${reason}`);
      },
    });
    this.connectTimer = this.clock.setTimeout(() => {
      if (current() && !this.joined) this.socketLost(CloseCode.TRY_AGAIN_LATER, `no Welcome within ${CONNECT_TIMEOUT_MS} ms`, true);
    }, CONNECT_TIMEOUT_MS);
  }

  /** Detaches and closes the current socket, rolling back what it left unconfirmed. */
  private dropSocket(code: number, reason: string): void {
    // Browsers throw on close codes other than 1000 and 3000-4999 (1013 is for servers only).
    const closeCode = code === CloseCode.NORMAL || (code >= 3000 && code <= 4999) ? code : CloseCode.NORMAL;
    this.generation++;
    this.clock.clearTimeout(this.connectTimer);
    this.clock.clearTimeout(this.heartbeatTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.joined = false;
    this.watches.reset();
    socket?.close(closeCode, reason.slice(0, 120));
    // Their fate is unknown; a resumed stream or the tiles read again show them if they were stored.
    const dropped = this.canvas.rollbackUnacknowledged();
    this.inFlight.clear();
    if (dropped.length > 0) {
      for (const d of dropped) this.events.emit("rollback", { clientSeq: d.clientSeq, pixels: d.pixels, reason: "connection-lost" });
      this.events.emit("canvas", { full: true });
    }
  }

  /** The connection ended or must be replaced: decide how soon to come back and in which state. */
  private socketLost(code: number, reason: string, closeIt = false): void {
    this.dropSocket(closeIt ? code : CloseCode.NORMAL, reason);
    switch (this.currentState) {
      case "idle":
      case "closed":
        return;
      case "connecting":
      case "live":
      case "resyncing":
      case "reconnecting": {
        const resync = code === CloseCode.SLOW_CONSUMER;
        const wantsNow = resync || code === CloseCode.SERVICE_RESTART;
        const now = this.clock.now();
        const immediate = wantsNow && now - this.lastImmediateAt >= IMMEDIATE_RECONNECT_MIN_INTERVAL_MS;
        if (immediate) this.lastImmediateAt = now;
        const delay = immediate ? 0 : backoffDelayMs(this.attempt++, this.random);
        this.setState(resync ? "resyncing" : "reconnecting", reason);
        this.clock.clearTimeout(this.reconnectTimer);
        this.reconnectTimer = this.clock.setTimeout(() => {
          if (this.currentState !== "closed") this.openSocket();
        }, delay);
        return;
      }
    }
  }

  private scheduleHeartbeat(): void {
    this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.clock.setTimeout(() => {
      const silentFor = this.clock.now() - this.lastReceivedAt;
      if (silentFor >= SILENT_SOCKET_TIMEOUT_MS) {
        this.socketLost(CloseCode.HEARTBEAT_TIMEOUT, `nothing received for ${silentFor} ms`, true);
        return;
      }
      this.send(encodeClientFrame(pingFrame(BigInt(Math.max(0, Math.floor(this.clock.now()))))));
      this.scheduleHeartbeat();
    }, APP_PING_INTERVAL_MS);
  }

  private send(bytes: Uint8Array): void {
    this.socket?.send(bytes);
  }

  private receive(data: Uint8Array | string): void {
    this.lastReceivedAt = this.clock.now();
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) {
      this.events.emit("protocolError", { message: decoded.error });
      return;
    }
    this.handleFrame(decoded.frame);
    // Protocol 3: acks coalesced into this frame, after whatever it carries.
    for (const ack of decoded.frame.acks) this.handleAck(ack);
  }

  private handleAck(ack: Ack): void {
    const pixels = this.inFlight.get(ack.clientSeq) ?? 0;
    this.inFlight.delete(ack.clientSeq);
    const rect = this.canvas.ack(ack.clientSeq, ack.seq);
    if (rect) this.events.emit("canvas", { full: false, rect });
    this.events.emit("ack", { clientSeq: ack.clientSeq, seq: ack.seq, pixels });
  }

  private handleFrame(frame: ServerFrame): void {
    const f = frame.frame;
    switch (f.case) {
      case "welcome":
        this.handleWelcome(f.value);
        return;
      case "batch":
        this.handleBatch(f.value);
        return;
      case "batches":
        // The same as that many batch frames in a row: a gap in one of them resyncs, and the
        // dropped socket's remaining batches are then ignored (handleBatch checks `joined`).
        for (const batch of f.value.batches) this.handleBatch(batch);
        return;
      case "ack":
        this.handleAck(f.value);
        return;
      case "error": {
        const { code, message, clientSeq, retryAfterMs } = f.value;
        const pixels = this.inFlight.get(clientSeq) ?? 0;
        if (clientSeq !== 0 && this.canvas.isPending(clientSeq)) {
          this.inFlight.delete(clientSeq);
          const rect = this.canvas.rollback(clientSeq);
          if (rect) this.events.emit("canvas", { full: false, rect });
          this.events.emit("rollback", { clientSeq, pixels, reason: "refused" });
        }
        this.events.emit("error", { code, message, clientSeq, pixels, retryAfterMs });
        // A page older than the gateway must be reloaded; retrying would only be refused again.
        if (code === ErrorCode.UNSUPPORTED_PROTOCOL) this.close();
        return;
      }
      case "watching":
        this.handleWatching(f.value);
        return;
      case "presence":
        this.events.emit("presence", { online: f.value.online, names: [...f.value.names] });
        return;
      case "pong":
        this.events.emit("pong", { rttMs: Math.max(0, this.clock.now() - Number(f.value.nonce)) });
        return;
      case undefined:
        return;
    }
  }

  private handleWelcome(welcome: Welcome): void {
    if (welcome.width <= 0 || welcome.height <= 0) {
      this.events.emit("protocolError", { message: `Welcome of an empty ${welcome.width}x${welcome.height} canvas` });
      this.socketLost(CloseCode.TRY_AGAIN_LATER, "bad Welcome: empty canvas", true);
      return;
    }
    this.joinedCanvasId = welcome.canvasId;
    const rejoin = this.joined;
    const kept = this.canvas.welcome(welcome);
    if (rejoin && kept) {
      // The gateway restarted this socket's stream (room reset, slow consumer): read the tiles again.
      this.canvas.restart(welcome.seq);
    } else {
      // A new socket: name the tiles, asking for a replay from where the kept tiles stand.
      this.watches.reset();
      this.sendWatch(kept && this.canvas.tiles.size > 0);
    }
    this.clock.clearTimeout(this.connectTimer);
    this.joined = true;
    this.attempt = 0;
    this.currentLimits = { maxPixelsPerPlace: welcome.maxPixelsPerPlace, pixelsPerSecond: welcome.pixelsPerSecond };
    this.currentConnectionId = welcome.connectionId;
    this.events.emit("welcome", welcome);
    this.events.emit("canvas", { full: true });
    this.setState("live", `joined at seq ${welcome.seq}`);
  }

  private sendWatchIfChanged(): void {
    if (this.joined && this.watches.changed(this.canvas.width, this.canvas.height)) this.sendWatch(false);
  }

  /** Sends the wanted tiles as a Watch; `resume` asks for a replay after the stream's seq. */
  private sendWatch(resume: boolean): void {
    const tiles = this.watches.tiles(this.canvas.width, this.canvas.height);
    this.watches.sent({ tiles, resume });
    this.send(encodeClientFrame(watchFrame(tiles, resume ? this.canvas.seq : 0n, resume ? this.canvas.epoch : 0n)));
  }

  private handleWatching(watching: Watching): void {
    const sent = this.watches.answered();
    if (!sent) {
      this.events.emit("protocolError", { message: `Watching at seq ${watching.seq} answers no Watch` });
      return;
    }
    // Kept tiles missed batches the gateway could not replay: read them again.
    if (sent.resume && !watching.replayed) this.canvas.restart(watching.seq);
    // Each tile read reports its own region when it lands.
    this.canvas.watching(sent.tiles, watching.seq, watching.epoch);
    this.events.emit("watching", { seq: watching.seq, epoch: watching.epoch, replayed: sent.resume && watching.replayed });
  }

  private handleBatch(batch: PixelBatch): void {
    // Before this socket's Welcome there is no stream to apply to.
    if (!this.joined) return;
    // Protocol 4: the pixels came as PixelBatch.columns; everything after this reads `pixels`.
    if (batch.columns) {
      batch.pixels = batchPixels(batch);
      batch.columns = undefined;
    }
    const result = this.canvas.applyBatch(batch);
    switch (result.kind) {
      case "applied":
        if (result.dirty) this.events.emit("canvas", { full: false, rect: result.dirty });
        this.events.emit("batch", { batch, receivedAtMs: this.clock.now() });
        return;
      case "duplicate":
        return;
    }
  }
}
