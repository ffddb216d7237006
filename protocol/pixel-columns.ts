import { create } from "@bufbuild/protobuf";
import { PixelSchema, type Pixel, type PixelBatch } from "../gen/pixel/v1/canvas_pb.js";
import { readUint32, skipField, varintLength, WireCursor, writeUint32, writeVarint } from "./varint.js";
import { BATCH_COLUMNS_TAG, BATCH_PIXEL_TAG, COLUMN_COLOR_TAG, COLUMN_X_TAG, COLUMN_Y_TAG, PIXEL_COLOR_TAG, PIXEL_X_TAG, PIXEL_Y_TAG } from "./wire-tags.js";

/**
 * PixelBatch.columns (pixel protocol 4): the same pixels as `pixels`, as three packed columns that
 * a generated decoder reads without a message per pixel. Batches are stored and published with
 * `pixels`; a gateway rewrites each batch once (`toColumnsBatch`) for the sockets that speak
 * protocol 4, and readers take the pixels from whichever field is set (`batchPixels`).
 */

/** The first pixel protocol whose clients get PixelBatch.columns instead of PixelBatch.pixels. */
export const COLUMNS_PROTOCOL = 4;

/** Scratch columns, grown as needed: the rewrite is synchronous, so one set serves every call. */
let xs = new Uint32Array(256);
let ys = new Uint32Array(256);
let colors = new Uint32Array(256);
const cursor = new WireCursor();

/**
 * Rewrites an encoded PixelBatch so that its `pixels` entries become one `columns` field (after the
 * batch's other fields, which are copied byte for byte, in their order); a batch without pixels is
 * returned as it is. Throws on bytes that are not a well-formed PixelBatch (the gateway has scanned
 * every published batch before it gets here).
 */
export function toColumnsBatch(pixelBatch: Uint8Array): Uint8Array {
  const c = cursor.reset(pixelBatch);
  const end = pixelBatch.length;
  // Byte ranges [start, end) of the fields that are not pixels, adjacent ones merged.
  const kept: number[] = [];
  let count = 0;
  while (c.pos < end) {
    const start = c.pos;
    const tag = uint32(c);
    if (tag !== BATCH_PIXEL_TAG) {
      if (!skipField(c, tag & 7)) throw new Error(`PixelBatch field ${tag >>> 3} runs past the end`);
      if (kept.length > 0 && kept[kept.length - 1] === start) kept[kept.length - 1] = c.pos;
      else kept.push(start, c.pos);
      continue;
    }
    const stop = uint32(c) + c.pos;
    if (stop > end) throw new Error("pixel runs past the end of the PixelBatch");
    let x = 0;
    let y = 0;
    let color = 0;
    while (c.pos < stop) {
      const t = uint32(c);
      if (t === PIXEL_X_TAG) x = uint32(c);
      else if (t === PIXEL_Y_TAG) y = uint32(c);
      else if (t === PIXEL_COLOR_TAG) color = uint32(c);
      else if (!skipField(c, t & 7)) throw new Error("pixel field runs past the end");
    }
    if (count === xs.length) grow();
    xs[count] = x;
    ys[count] = y;
    colors[count] = color;
    count++;
  }
  if (count === 0) return pixelBatch;
  const xBytes = packedLength(xs, count);
  const yBytes = packedLength(ys, count);
  const colorBytes = packedLength(colors, count);
  const body = 3 + varintLength(xBytes) + xBytes + varintLength(yBytes) + yBytes + varintLength(colorBytes) + colorBytes;
  let keptBytes = 0;
  for (let i = 0; i < kept.length; i += 2) keptBytes += kept[i + 1]! - kept[i]!;
  const out = new Uint8Array(keptBytes + 1 + varintLength(body) + body);
  let o = 0;
  for (let i = 0; i < kept.length; i += 2) {
    out.set(pixelBatch.subarray(kept[i]!, kept[i + 1]!), o);
    o += kept[i + 1]! - kept[i]!;
  }
  out[o++] = BATCH_COLUMNS_TAG;
  o = writeVarint(out, o, body);
  o = writePacked(out, o, COLUMN_X_TAG, xs, count, xBytes);
  o = writePacked(out, o, COLUMN_Y_TAG, ys, count, yBytes);
  writePacked(out, o, COLUMN_COLOR_TAG, colors, count, colorBytes);
  return out;
}

/**
 * The pixels of a decoded PixelBatch, from `pixels` or, for a protocol 4 socket's batch, from
 * `columns` (a column shorter than the others ends the list: a well-formed batch has none).
 */
export function batchPixels(batch: PixelBatch): Pixel[] {
  const columns = batch.columns;
  if (!columns || batch.pixels.length > 0) return batch.pixels;
  const n = Math.min(columns.x.length, columns.y.length, columns.color.length);
  const out = new Array<Pixel>(n);
  for (let i = 0; i < n; i++) out[i] = create(PixelSchema, { x: columns.x[i]!, y: columns.y[i]!, color: columns.color[i]! });
  return out;
}

function uint32(c: WireCursor): number {
  const value = readUint32(c);
  if (value < 0) throw new Error("truncated varint in a PixelBatch");
  return value;
}

function grow(): void {
  const size = xs.length * 2;
  const widen = (a: Uint32Array) => {
    const b = new Uint32Array(size);
    b.set(a);
    return b;
  };
  xs = widen(xs);
  ys = widen(ys);
  colors = widen(colors);
}

function packedLength(values: Uint32Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) n += varintLength(values[i]!);
  return n;
}

function writePacked(out: Uint8Array, at: number, tag: number, values: Uint32Array, count: number, bytes: number): number {
  out[at] = tag;
  let o = writeVarint(out, at + 1, bytes);
  for (let i = 0; i < count; i++) o = writeUint32(out, o, values[i]!);
  return o;
}
