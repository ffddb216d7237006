import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { PixelBatchSchema } from "../../../gen/pixel/v1/canvas_pb.js";
import { ServerFrameSchema, type ServerFrame } from "../../../gen/pixel/v1/realtime_pb.js";
import type { Logger } from "../../shared/logger.js";
import type { PixelBus } from "../../shared/pixel-bus.js";
import type { CanvasClient, CanvasHead } from "../upstream/canvas-client.js";
import type { CanvasRoom, RoomMember } from "../room/canvas-room.js";
import type { ClientSocket } from "../session/client-socket.js";
import { Gateway } from "../gateway.js";
import type { GatewayTuning } from "../gateway-tuning.js";
import { MemoryPresenceStore } from "../presence/presence.js";
import { acksElement } from "../../../protocol/server-frames.js";

/** A silent logger for unit tests. */
export const quietLog: Logger = pino({ level: "silent" });

/** A started in-process Gateway ("g1", at most 10 connections, in-memory presence) for unit tests. */
export function startTestGateway(bus: PixelBus, canvas: CanvasClient, tuning: Partial<GatewayTuning>, limits: { pixelsPerSecond?: number; pixelBurst?: number } = {}): Gateway {
  const gateway = new Gateway({
    config: { pixelsPerSecond: limits.pixelsPerSecond ?? 1000, pixelBurst: limits.pixelBurst ?? 1000, maxConnections: 10, instanceId: "g1" },
    log: quietLog,
    bus,
    canvas,
    presence: new MemoryPresenceStore("g1", 1000),
    tuning,
  });
  gateway.start();
  return gateway;
}

/** Encodes a published PixelBatch the way the canvas service does. */
export function publishedBatch(seq: bigint, pixels: { x: number; y: number; color: number }[], epoch = 1n, canvasId = "default"): Uint8Array {
  return toBinary(PixelBatchSchema, create(PixelBatchSchema, { canvasId, seq, epoch, pixels, author: "", timeUnixMs: BigInt(Date.now()) }));
}

/** The head of a width x height canvas at (seq, epoch). */
export function blankSnapshot(width: number, height: number, seq: bigint, epoch = 1n, canvasId = "default"): CanvasHead {
  return { canvasId, width, height, seq, epoch };
}

/** Joins `member` to a live room and watches every tile of it; returns its Welcome. */
export function joinWatching(room: CanvasRoom, member: RoomMember, connectionId: string): Buffer | undefined {
  const welcome = room.join(member, connectionId);
  room.watch(member, new Set(Array.from({ length: room.columns * room.rows }, (_, i) => i)), 0n, 0n);
  return welcome;
}

/** Decodes every frame a fake socket or member received. */
export function decodeAll(frames: Uint8Array[]): ServerFrame["frame"][] {
  return frames.map((f) => fromBinary(ServerFrameSchema, f).frame);
}

/** Seqs of the batches in decoded frames, in order: a `batches` frame counts as its batches in a row. */
export function batchSeqsOf(frames: ServerFrame["frame"][]): bigint[] {
  return frames.flatMap((f) => (f.case === "batch" ? [f.value.seq] : f.case === "batches" ? f.value.batches.map((b) => b.seq) : []));
}

/** A room member that records what it was sent. */
export class RecordingMember implements RoomMember {
  frames: Uint8Array[] = [];
  resets = 0;
  accept = true;
  constructor(
    readonly name = "",
    readonly columns = false,
  ) {}
  /** Acks held for the room's next flush, as ServerFrame.acks elements (what a protocol 3 connection does). */
  heldAcks: Buffer[] = [];
  sendBatch(frame: Buffer): boolean {
    if (!this.accept) return false;
    this.frames.push(this.heldAcks.length === 0 ? frame : Buffer.concat([frame, ...this.heldAcks.splice(0)]));
    return true;
  }
  /** Holds an ack for the next flush, as Connection.ack does for a protocol 3 client. */
  holdAck(clientSeq: number, seq: bigint): void {
    this.heldAcks.push(acksElement(clientSeq, seq));
  }
  flushAcks(): void {
    if (this.heldAcks.length > 0) this.frames.push(Buffer.concat(this.heldAcks.splice(0)));
  }
  send(frame: Uint8Array): void {
    this.frames.push(frame);
  }
  onRoomReset(): void {
    this.resets++;
  }
  /** Seqs of the batches received (in `batch` or `batches` frames), in order. */
  batchSeqs(): bigint[] {
    return batchSeqsOf(decodeAll(this.frames));
  }
}

/**
 * A socket that records frames and close codes. queuedBytes is settable to simulate a slow
 * reader; with `neverReads` every send adds to it, as for a client that stopped reading.
 */
export class FakeSocket implements ClientSocket {
  readyState = 1;
  queuedBytes = 0;
  /** Set by pauseReading: the queue size reads resume at, and what to call if they never do. */
  readsPaused: { resumeAtBytes: number; stalled: () => void } | undefined;
  sent: Uint8Array[] = [];
  closedWith: { code: number; reason: string } | undefined;
  terminated = false;
  constructor(private readonly neverReads = false) {}
  send(data: Uint8Array): void {
    this.sent.push(data);
    if (this.neverReads) this.queuedBytes += data.length;
  }
  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  pauseReading(resumeAtBytes: number, _withinMs: number, stalled: () => void): void {
    this.readsPaused ??= { resumeAtBytes, stalled };
  }
  frames() {
    return decodeAll(this.sent);
  }
  errors() {
    return this.frames().flatMap((f) => (f.case === "error" ? [f.value] : []));
  }
}
