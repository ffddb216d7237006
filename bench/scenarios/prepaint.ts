import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CanvasService, PixelSchema, type Pixel } from "../../gen/pixel/v1/canvas_pb.js";
import { mulberry32 } from "../../tools/prng.js";

/** SetPixels' documented maximum per call. */
const PIXELS_PER_CALL = 10_000;
/** Calls in flight while painting: enough to keep the canvas service busy without queueing a burst. */
const CALLS_IN_FLIGHT = 4;
/** A 16-colour palette, so tiles look like pixel art rather than noise or one flat colour. */
const PALETTE = [0x000000, 0xffffff, 0xe63946, 0xf1faee, 0xa8dadc, 0x457b9d, 0x1d3557, 0xffb703, 0xfb8500, 0x2a9d8f, 0x264653, 0xe9c46a, 0x8338ec, 0x3a86ff, 0x06d6a0, 0x6d597a];

/** What to paint: which canvas, its size, how coarse the art is and how much of it. */
export interface PrepaintSpec {
  /** The canvas service's internal gRPC URL (h2c). */
  canvasUrl: string;
  canvasId: string;
  width: number;
  height: number;
  /** Side of one square of one colour, in pixels. */
  cell: number;
  /** Share of the cells painted, 0..1; the rest keep the background. */
  fraction: number;
  seed: number;
}

/**
 * Paints random pixel art (cells of one palette colour, a share of them left unpainted) over a
 * canvas through SetPixels, so tile PNGs have the size of real art rather than the 103 bytes of a
 * uniform tile. Returns the pixels written.
 */
export async function prepaint(spec: PrepaintSpec): Promise<number> {
  const client = createClient(CanvasService, createGrpcTransport({ baseUrl: spec.canvasUrl }));
  const random = mulberry32(spec.seed);
  let batch: Pixel[] = [];
  let written = 0;
  const inFlight = new Set<Promise<void>>();
  const flush = async () => {
    const pixels = batch;
    batch = [];
    const call = client.setPixels({ canvasId: spec.canvasId, pixels, author: "prepaint" }).then(() => {
      written += pixels.length;
      inFlight.delete(call);
    });
    inFlight.add(call);
    if (inFlight.size >= CALLS_IN_FLIGHT) await Promise.race(inFlight);
  };
  for (let cy = 0; cy < spec.height; cy += spec.cell) {
    for (let cx = 0; cx < spec.width; cx += spec.cell) {
      if (random() >= spec.fraction) continue;
      const color = PALETTE[Math.floor(random() * PALETTE.length)]!;
      for (let y = cy; y < Math.min(cy + spec.cell, spec.height); y++) {
        for (let x = cx; x < Math.min(cx + spec.cell, spec.width); x++) batch.push(create(PixelSchema, { x, y, color }));
      }
      if (batch.length >= PIXELS_PER_CALL - spec.cell * spec.cell) await flush();
    }
  }
  if (batch.length > 0) await flush();
  await Promise.all(inFlight);
  return written;
}
