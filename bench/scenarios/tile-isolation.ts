import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import WebSocket from "ws";
import { PixelSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { ClientFrameSchema, HelloSchema, PlaceSchema, ServerFrameSchema, WatchSchema, type ServerFrame } from "../../gen/pixel/v1/realtime_pb.js";
import { batchPixels } from "../../protocol/pixel-columns.js";
import type { TileCoord } from "../../protocol/tile-grid.js";
import { PIXEL_PROTOCOL } from "../../protocol/tile-watch.js";

/** What the watcher of one tile saw while another client painted elsewhere, then once in its tile. */
export interface IsolationResult {
  /** Batches placed outside the watched tile, each acked before the next. */
  placedElsewhere: number;
  /** Batch frames the watcher received before the control pixel's batch: 0 when watching isolates. */
  batchFramesBeforeControl: number;
  /** Whether the control pixel, placed inside the watched tile last, reached the watcher. */
  controlReceived: boolean;
}

/** Longest wait for one step (a join, an Ack, the control batch). */
const STEP_TIMEOUT_MS = 10_000;

/** A protocol-2 socket that watches `tiles` and hands every decoded frame to `onFrame`; resolves once Watching arrives. */
async function watchingSocket(url: string, canvasId: string, tiles: TileCoord[], onFrame: (f: ServerFrame) => void): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const send = (frame: Parameters<typeof create<typeof ClientFrameSchema>>[1]) => ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, frame)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no Watching in time")), STEP_TIMEOUT_MS);
    ws.on("error", reject);
    ws.on("open", () => send({ frame: { case: "hello", value: create(HelloSchema, { canvasId, name: "isolation", protocol: PIXEL_PROTOCOL }) } }));
    ws.on("message", (data: Buffer) => {
      const frame = fromBinary(ServerFrameSchema, data);
      if (frame.frame.case === "welcome") send({ frame: { case: "watch", value: create(WatchSchema, { tiles }) } });
      else if (frame.frame.case === "watching") {
        clearTimeout(timer);
        resolve();
      }
      onFrame(frame);
    });
  });
  return ws;
}

/** Resolves when `check` holds, polling each 10 ms; throws after STEP_TIMEOUT_MS with `what`. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * One client watches tile (0, 0) alone; another, watching tile (1, 0), places `batches` pixels in
 * tile (1, 0), one Place per batch, each acked before the next, then one control pixel at (0, 0).
 * Batches of one room reach a socket in seq order, so every frame the watcher got before the
 * control batch is one it should not have been sent.
 */
export async function checkTileIsolation(wsUrl: string, canvasId: string, batches: number): Promise<IsolationResult> {
  let watcherBatchFrames = 0;
  let controlReceived = false;
  const CONTROL_COLOR = 0x123456;
  const watcher = await watchingSocket(wsUrl, canvasId, [{ tx: 0, ty: 0 }], (f) => {
    if (f.frame.case === "batch" || f.frame.case === "batches") {
      const list = f.frame.case === "batch" ? [f.frame.value] : f.frame.value.batches;
      if (list.some((b) => batchPixels(b).some((p) => p.color === CONTROL_COLOR))) controlReceived = true;
      else watcherBatchFrames++;
    }
  });
  const acked = new Set<number>();
  const painter = await watchingSocket(wsUrl, canvasId, [{ tx: 1, ty: 0 }], (f) => {
    if (f.frame.case === "ack") acked.add(f.frame.value.clientSeq);
    for (const a of f.acks) acked.add(a.clientSeq);
  });
  const place = (clientSeq: number, x: number, y: number, color: number) =>
    painter.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "place", value: create(PlaceSchema, { clientSeq, pixels: [create(PixelSchema, { x, y, color })] }) } })));
  try {
    for (let i = 1; i <= batches; i++) {
      place(i, 256 + (i % 256), 7, 0x00ff00 + i);
      await until(`the Ack of place ${i}`, () => acked.has(i));
    }
    place(batches + 1, 3, 3, CONTROL_COLOR);
    await until("the control batch at the watcher", () => controlReceived);
  } finally {
    watcher.close();
    painter.close();
  }
  return { placedElsewhere: batches, batchFramesBeforeControl: watcherBatchFrames, controlReceived };
}
