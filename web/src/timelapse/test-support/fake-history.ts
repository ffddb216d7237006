import { create } from "@bufbuild/protobuf";
import { PixelBatchSchema, PixelSchema } from "../../../../gen/pixel/v1/canvas_pb.js";
import { ArchivedBatchSchema, GetPlacementsResponseSchema, type ArchivedBatch, type GetPlacementsResponse } from "../../../../gen/pixel/v1/history_pb.js";
import { mulberry32 } from "../../../../tools/prng.js";

/** A canvas history made up for tests: batches with the previous colours a real store would record. */
export interface FakeHistory {
  width: number;
  height: number;
  background: number;
  batches: ArchivedBatch[];
}

/** `batches` random batches of 1 to `maxPixels` pixels on a width×height canvas, seq 1.., one second apart. */
export function fakeHistory(width: number, height: number, batches: number, maxPixels: number, seed = 1): FakeHistory {
  const random = mulberry32(seed);
  const background = 0xffffff;
  const canvas = new Uint32Array(width * height).fill(background);
  const out: ArchivedBatch[] = [];
  for (let s = 1; s <= batches; s++) {
    const n = 1 + Math.floor(random() * maxPixels);
    const pixels = [];
    const previous = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const x = Math.floor(random() * width);
      const y = Math.floor(random() * height);
      const color = Math.floor(random() * 0x1000000);
      const before = canvas[y * width + x]!;
      previous.set([before >> 16, (before >> 8) & 0xff, before & 0xff], i * 3);
      canvas[y * width + x] = color;
      pixels.push(create(PixelSchema, { x, y, color }));
    }
    out.push(create(ArchivedBatchSchema, { batch: create(PixelBatchSchema, { seq: BigInt(s), epoch: 1n, timeUnixMs: BigInt(1_000_000 + s * 1000), pixels }), previousColors: previous }));
  }
  return { width, height, background, batches: out };
}

/** The canvas (0xRRGGBB per pixel) after the first `batches` batches, replayed plainly. */
export function replay(h: FakeHistory, batches: number): Uint32Array {
  const canvas = new Uint32Array(h.width * h.height).fill(h.background);
  for (const b of h.batches.slice(0, batches)) for (const p of b.batch!.pixels) canvas[p.y * h.width + p.x] = p.color;
  return canvas;
}

/** One GetPlacements page of `h`: the batches after `afterSeq`, whole, up to about `maxPixels`. */
export function placementsPage(h: FakeHistory, afterSeq: bigint, maxPixels: number): GetPlacementsResponse {
  const batches: ArchivedBatch[] = [];
  let pixels = 0;
  for (const b of h.batches) {
    if (b.batch!.seq <= afterSeq) continue;
    if (batches.length > 0 && pixels + b.batch!.pixels.length > maxPixels) break;
    batches.push(b);
    pixels += b.batch!.pixels.length;
  }
  const archivedSeq = BigInt(h.batches.length);
  return create(GetPlacementsResponseSchema, {
    batches,
    epoch: 1n,
    width: h.width,
    height: h.height,
    backgroundColor: h.background,
    nextAfterSeq: batches.length > 0 ? batches.at(-1)!.batch!.seq : archivedSeq,
    archivedSeq,
    firstSeq: 1n,
  });
}
