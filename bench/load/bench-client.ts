import WebSocket from "ws";
import { ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { batchContinuity } from "../../protocol/batch-continuity.js";
import { scanAckFrame, scanBatchFrames } from "../../protocol/batch-frame-scan.js";
import { decodeServerFrame, encodeClientFrame, helloFrame, placeFrame, watchFrame } from "../../protocol/frame-codec.js";
import { tilesOfRect } from "../../protocol/tile-grid.js";
import { ACKS_ELEMENT_TAG, BATCH_FRAME_TAG, BATCHES_FRAME_TAG } from "../../protocol/wire-tags.js";
import { now } from "./clock.js";
import type { ReaderStats } from "./reader-stats.js";

/** Which system a client speaks to. */
export type Target = "ours" | "legacy";

/** One simulated user: a WebSocket that places pixels and reads everyone's. */
export interface BenchClient {
  /** Global client index (the writer id recorded with every pixel it sends). */
  readonly index: number;
  /** Resolves once the client can place and receive (Welcome for ours, open for legacy). */
  readonly ready: Promise<void>;
  /** Sends one pixel whose colour is the pixel id. */
  place(x: number, y: number, id: number): void;
  /** Closes the socket; later events are not counted as failures. */
  close(): void;
  /** Terminates the socket without a close handshake (fast teardown of thousands). */
  terminate(): void;
}

/**
 * How the load generator measures (bench/README.md, "Two methods"). `outsider`: every reader
 * decodes every frame with the generated code (outsider-client.ts), latency of every delivery of
 * the phase, writers take turns one pixel at a time. `scanner`: this file's client, which reads
 * batches in place with protocol/'s scanner and times only pixels placed by another client.
 */
export type Method = "outsider" | "scanner";

/** How clients read frames. */
export interface ClientOptions {
  method: Method;
}

const COLOR_NEEDLE = Buffer.from('"color":"#');

function hexAt(buf: Buffer, at: number): number {
  let v = 0;
  for (let i = at; i < at + 6; i++) {
    const c = buf[i]!;
    v = v * 16 + (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
  }
  return v;
}

function hex6(id: number): string {
  return "#" + id.toString(16).padStart(6, "0");
}

/** Receive time of the frame being scanned, shared by the allocation-free colour visitors. */
let frameTime = 0;

/**
 * Opens a scanner-method client of either target. `steadyIndex` is the reader's slot in the worker's
 * per-phase receipt counts, or -1 for a churning client that is not loss-counted.
 */
export function openClient(target: Target, url: string, index: number, steadyIndex: number, stats: ReaderStats): BenchClient {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const startedAt = now();
  let closing = false;
  let welcomed = false;
  // Where this client's copy stands. The in-place scanner reads no epoch, so both stay in epoch 0.
  const position = { seq: 0n, epoch: 0n };
  const incoming = { seq: 0n, epoch: 0n };
  let resolveReady!: () => void;
  let rejectReady!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = () => {
      stats.connectLatency.record((now() - startedAt) * 1000);
      res();
    };
    rejectReady = rej;
  });
  // A failed connect is reported through `ready`; avoid an unhandled rejection when nobody awaits it.
  ready.catch(() => undefined);
  const visit = (color: number) => stats.pixel(color, index, steadyIndex, frameTime);

  ws.on("error", (err) => {
    if (!welcomed) rejectReady(err);
  });
  ws.on("close", (code) => {
    if (!welcomed) rejectReady(new Error(`closed with ${code} before ready`));
    else if (!closing) stats.unexpectedCloses++;
  });

  if (target === "legacy") {
    ws.on("open", () => {
      welcomed = true;
      resolveReady();
    });
    ws.on("message", (data: Buffer) => {
      frameTime = now();
      stats.frames++;
      stats.bytes += data.length;
      const at = data.indexOf(COLOR_NEEDLE);
      if (at >= 0) {
        visit(hexAt(data, at + COLOR_NEEDLE.length));
        stats.endFrame();
      } else {
        stats.error("legacy_error", 0);
      }
    });
    return {
      index,
      ready,
      place(x, y, id) {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "place", x, y, color: hex6(id) }));
      },
      close() {
        closing = true;
        ws.close();
      },
      terminate() {
        closing = true;
        ws.terminate();
      },
    };
  }

  ws.on("open", () => ws.send(encodeClientFrame(helloFrame("", `bench-${index}`, 0n, 0n))));
  ws.on("message", (data: Buffer) => {
    frameTime = now();
    stats.frames++;
    stats.bytes += data.length;
    if (data[0] === BATCH_FRAME_TAG || data[0] === BATCHES_FRAME_TAG) {
      // A coalesced frame counts each of its batches (pixels, latency, seq continuity) as a batch
      // frame would, then the acks it carries (protocol 3).
      scanBatchFrames(data, visit, onSeq, onAck);
      stats.endFrame();
      return;
    }
    if (data[0] === ACKS_ELEMENT_TAG) {
      scanAckFrame(data, onAck);
      return;
    }
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) {
      stats.error("undecodable", 0);
      return;
    }
    stats.decodedFrames++;
    for (const ack of decoded.frame.acks) stats.ack(ack.clientSeq);
    const frame = decoded.frame.frame;
    switch (frame.case) {
      case "welcome":
        if (welcomed) stats.resyncs++;
        position.seq = frame.value.seq;
        // Protocol 2: a load client watches the whole canvas, so it gets every batch as before.
        if (!welcomed) ws.send(encodeClientFrame(watchFrame(tilesOfRect(frame.value.width, frame.value.height, 0, { x: 0, y: 0, width: frame.value.width, height: frame.value.height }))));
        if (!welcomed) {
          welcomed = true;
          resolveReady();
        }
        break;
      case "watching":
        // Batches stored between the Welcome and the Watch were never this socket's to get.
        position.seq = frame.value.seq;
        break;
      case "ack":
        stats.ack(frame.value.clientSeq);
        break;
      case "error":
        stats.error(ErrorCode[frame.value.code] ?? String(frame.value.code), frame.value.clientSeq !== 0 ? 1 : 0);
        break;
      // Batch frames start with their tag byte and were scanned above.
      case "batch":
      case "batches":
      case "presence":
      case "pong":
      case undefined:
        break;
    }
  });

  function onAck(clientSeq: number): void {
    stats.ack(clientSeq);
  }

  /** Counts what the protocol's continuity rule says of each batch; a load client records gaps instead of resyncing. */
  function onSeq(seq: number): void {
    if (!welcomed) return;
    incoming.seq = BigInt(seq);
    switch (batchContinuity(position, incoming)) {
      case "duplicate":
        stats.seqDuplicates++;
        return;
      case "gap":
        stats.seqGaps += seq - Number(position.seq) - 1;
        break;
      case "apply":
      case "older-epoch":
      case "newer-epoch":
        break;
    }
    position.seq = incoming.seq;
  }

  return {
    index,
    ready,
    place(x, y, id) {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeClientFrame(placeFrame(id, [{ x, y, color: id }])));
    },
    close() {
      closing = true;
      ws.close();
    },
    terminate() {
      closing = true;
      ws.terminate();
    },
  };
}
