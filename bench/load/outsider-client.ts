import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import WebSocket from "ws";
import { PixelSchema, type PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import { ClientFrameSchema, ErrorCode, HelloSchema, PlaceSchema, ServerFrameSchema, WatchSchema, type ServerFrame, type Welcome } from "../../gen/pixel/v1/realtime_pb.js";
import type { BenchClient, Target } from "./bench-client.js";
import { now } from "./clock.js";
import type { ReaderStats } from "./reader-stats.js";

/**
 * A client written the way an outside engineer would write one from `proto/` alone: every
 * WebSocket message is decoded in full with the generated code (`fromBinary(ServerFrameSchema)`;
 * JSON.parse for the legacy design's text messages), every pixel of every frame is visited, and
 * each Place carries one pixel. It shares nothing with `protocol/` (no scanner, no frame helpers)
 * so that what it measures includes what any real client pays to read the stream. It speaks pixel
 * protocol 4 as the proto documents it: Hello with protocol 4, then a Watch of every level-0 tile
 * (grid from Welcome.tile_size), so it still receives every batch; it is ready at its Watching;
 * acks are read from ServerFrame.acks of any frame as well as from `ack` frames; a batch's pixels
 * are read from PixelBatch.columns, or from PixelBatch.pixels when that is what came.
 */

/** The pixel protocol the outsider speaks (Hello.protocol in realtime.proto). */
const OUTSIDER_PROTOCOL = 4;
export function openOutsiderClient(target: Target, url: string, index: number, steadyIndex: number, stats: ReaderStats): BenchClient {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const startedAt = now();
  let closing = false;
  let ready = false;
  let lastSeq = 0n;
  let epoch = 0n;
  let resolveReady!: () => void;
  let rejectReady!: (err: Error) => void;
  const readyPromise = new Promise<void>((res, rej) => {
    resolveReady = () => {
      ready = true;
      stats.connectLatency.record((now() - startedAt) * 1000);
      res();
    };
    rejectReady = rej;
  });
  readyPromise.catch(() => undefined);
  ws.on("error", (err) => {
    if (!ready) rejectReady(err);
  });
  ws.on("close", (code) => {
    if (!ready) rejectReady(new Error(`closed with ${code} before ready`));
    else if (!closing) stats.unexpectedCloses++;
  });

  const onBatch = (batch: PixelBatch, at: number): void => {
    const columns = batch.columns;
    if (columns) for (const color of columns.color) stats.pixel(color, index, steadyIndex, at);
    else for (const p of batch.pixels) stats.pixel(p.color, index, steadyIndex, at);
    if (!ready) return;
    if (batch.epoch !== epoch) {
      epoch = batch.epoch;
      lastSeq = batch.seq;
      return;
    }
    if (batch.seq <= lastSeq) stats.seqDuplicates++;
    else {
      if (batch.seq > lastSeq + 1n) stats.seqGaps += Number(batch.seq - lastSeq - 1n);
      lastSeq = batch.seq;
    }
  };

  let send: (x: number, y: number, id: number) => void;
  if (target === "legacy") {
    ws.on("open", () => resolveReady());
    ws.on("message", (data: Buffer) => {
      const at = now();
      stats.frames++;
      stats.bytes += data.length;
      let message: unknown;
      try {
        message = JSON.parse(data.toString("utf8"));
      } catch {
        stats.error("undecodable", 0);
        return;
      }
      stats.decodedFrames++;
      const m = message as { type?: unknown; color?: unknown };
      if (m.type === "pixel" && typeof m.color === "string") {
        stats.pixel(Number.parseInt(m.color.slice(1), 16), index, steadyIndex, at);
        stats.endFrame();
      } else stats.error("legacy_error", 0);
    });
    send = (x, y, id) => ws.send(JSON.stringify({ type: "place", x, y, color: `#${id.toString(16).padStart(6, "0")}` }));
  } else {
    ws.on("open", () => {
      const hello = create(HelloSchema, { canvasId: "", name: `outsider-${index}`, lastSeq: 0n, lastEpoch: 0n, protocol: OUTSIDER_PROTOCOL });
      ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: hello } })));
    });
    ws.on("message", (data: Buffer) => {
      const at = now();
      stats.frames++;
      stats.bytes += data.length;
      let frame: ServerFrame;
      try {
        frame = fromBinary(ServerFrameSchema, data);
      } catch {
        stats.error("undecodable", 0);
        return;
      }
      stats.decodedFrames++;
      const f = frame.frame;
      // Protocol 3: acks ride any frame (after what it carries), or come alone with `frame` unset.
      for (const ack of frame.acks) stats.ack(ack.clientSeq);
      switch (f.case) {
        case "batch":
          onBatch(f.value, at);
          stats.endFrame();
          break;
        case "batches":
          for (const b of f.value.batches) onBatch(b, at);
          stats.endFrame();
          break;
        case "welcome":
          if (ready) stats.resyncs++;
          lastSeq = f.value.seq;
          epoch = f.value.epoch;
          if (!ready) ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "watch", value: watchEveryTile(f.value) } })));
          break;
        case "watching":
          // Batches stored between the Welcome and the Watch were never this socket's to get.
          lastSeq = f.value.seq;
          epoch = f.value.epoch;
          if (!ready) resolveReady();
          break;
        case "ack":
          stats.ack(f.value.clientSeq);
          break;
        case "error":
          stats.error(ErrorCode[f.value.code] ?? String(f.value.code), f.value.clientSeq !== 0 ? 1 : 0);
          break;
        case "presence":
        case "pong":
        case undefined:
          break;
      }
    });
    send = (x, y, id) => {
      const place = create(PlaceSchema, { clientSeq: id, pixels: [create(PixelSchema, { x, y, color: id })] });
      ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "place", value: place } })));
    };
  }
  return {
    index,
    ready: readyPromise,
    place(x, y, id) {
      if (ws.readyState === WebSocket.OPEN) send(x, y, id);
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

/** A Watch of every level-0 tile of the Welcome's canvas (at most 1,024: canvases up to 8192 x 8192). */
function watchEveryTile(welcome: Welcome) {
  const columns = Math.ceil(welcome.width / welcome.tileSize);
  const rows = Math.ceil(welcome.height / welcome.tileSize);
  const tiles = Array.from({ length: columns * rows }, (_, i) => ({ tx: i % columns, ty: Math.floor(i / columns) }));
  return create(WatchSchema, { tiles });
}
