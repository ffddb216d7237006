import { readUint32, readVarint, skipField, WireCursor } from "./varint.js";
import { ACK_CLIENT_SEQ_TAG, ACKS_ELEMENT_TAG, BATCH_FRAME_TAG, BATCHES_FRAME_TAG, BATCHES_ITEM_TAG, COLUMN_COLOR_TAG, PIXEL_COLOR_TAG, PixelBatchField, WireType } from "./wire-tags.js";

/**
 * Reads a `ServerFrame{batch}` or `ServerFrame{batches}` in place: every batch's seq and every
 * pixel colour (from PixelBatch.pixels or, protocol 4, PixelBatch.columns), without decoding into objects. The load generator receives millions of pixels
 * per second on two cores it shares with the servers, so this is its hot path; the frame codec
 * (frame-codec.ts) decodes everything else, and a test checks that both read the same frames
 * the same way.
 */

/** Called once per pixel with its colour. */
export type ColorVisitor = (color: number) => void;

/** Called once per batch, after its pixels, with its seq. */
export type SeqVisitor = (seq: number) => void;

/** One cursor for every scan: scans are synchronous, so it is never shared by two at once. */
const cursor = new WireCursor();

function varint(c: WireCursor): number {
  const value = readVarint(c);
  if (value < 0) throw new Error(`truncated or overlong varint at byte ${c.pos} of ${c.bytes.length}`);
  return value;
}

function skip(c: WireCursor, wireType: number): void {
  if (!skipField(c, wireType)) throw new Error(`field of wire type ${wireType} cannot be skipped at byte ${c.pos} of ${c.bytes.length}`);
}

/** Reads the length of a field at `c.pos` and returns where it ends, checking it against `limit`. */
function fieldEnd(c: WireCursor, limit: number, what: string): number {
  const length = readUint32(c);
  const end = length + c.pos;
  if (length < 0 || end > limit) throw new Error(`${what} truncated: ${limit} bytes, needs ${end}`);
  return end;
}

/** Visits the pixels of the PixelBatch from `c.pos` to `end`; returns its seq. */
function scanBatch(c: WireCursor, end: number, visit: ColorVisitor): number {
  let seq = 0;
  while (c.pos < end) {
    const key = varint(c);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === PixelBatchField.SEQ && wire === WireType.VARINT) {
      seq = varint(c);
    } else if (field === PixelBatchField.PIXELS && wire === WireType.LENGTH_DELIMITED) {
      const pixelEnd = fieldEnd(c, end, "pixel");
      let color = 0;
      while (c.pos < pixelEnd) {
        const k = varint(c);
        if (k === PIXEL_COLOR_TAG) color = varint(c);
        else skip(c, k & 7);
      }
      visit(color);
    } else if (field === PixelBatchField.COLUMNS && wire === WireType.LENGTH_DELIMITED) {
      scanColorColumn(c, fieldEnd(c, end, "columns"), visit);
    } else {
      skip(c, wire);
    }
  }
  return seq;
}

/** Visits each value of the packed colour column of the PixelColumns from `c.pos` to `end`. */
function scanColorColumn(c: WireCursor, end: number, visit: ColorVisitor): void {
  while (c.pos < end) {
    const key = varint(c);
    if (key !== COLUMN_COLOR_TAG) {
      skip(c, key & 7);
      continue;
    }
    const columnEnd = fieldEnd(c, end, "colour column");
    while (c.pos < columnEnd) visit(varint(c));
    if (c.pos !== columnEnd) throw new Error(`colour column overruns its length at byte ${c.pos}`);
  }
}

/**
 * Visits every pixel colour of a batch frame and returns the batch's seq, or -1 when
 * the frame is not a batch. Throws on truncated input.
 */
export function scanBatchFrame(buf: Uint8Array, visit: ColorVisitor): number {
  if (buf.length < 2 || buf[0] !== BATCH_FRAME_TAG) return -1;
  const c = cursor.reset(buf, 1);
  return scanBatch(c, fieldEnd(c, buf.length, "batch frame"), visit);
}

/** Called once per acknowledgement a frame carries (ServerFrame.acks, protocol 3) with its Place's client_seq. */
export type AckVisitor = (clientSeq: number) => void;

/**
 * Reads a `batch` or a coalesced `batches` frame: visits each batch's pixel colours and then
 * calls `onBatch` with its seq, batch by batch in order, exactly as for that many batch frames;
 * then calls `onAck` for each ack the frame carries after them (protocol 3).
 * Returns the number of batches, or -1 when the frame is neither. Throws on truncated input.
 */
export function scanBatchFrames(buf: Uint8Array, visit: ColorVisitor, onBatch: SeqVisitor, onAck?: AckVisitor): number {
  if (buf.length < 2) return -1;
  const c = cursor.reset(buf, 1);
  let count = 0;
  if (buf[0] === BATCH_FRAME_TAG) {
    onBatch(scanBatch(c, fieldEnd(c, buf.length, "batch frame"), visit));
    count = 1;
  } else if (buf[0] === BATCHES_FRAME_TAG) {
    const end = fieldEnd(c, buf.length, "batches frame");
    while (c.pos < end) {
      const key = varint(c);
      if (key !== BATCHES_ITEM_TAG) {
        skip(c, key & 7);
        continue;
      }
      const batchEnd = fieldEnd(c, end, "batch in a batches frame");
      onBatch(scanBatch(c, batchEnd, visit));
      count++;
    }
  } else {
    return -1;
  }
  if (c.pos < buf.length) scanAcks(c, buf.length, onAck);
  return count;
}

/**
 * Reads the ServerFrame fields from `c.pos` to `end` (after a frame's `frame` field): calls
 * `onAck` with the client_seq of each `acks` element and skips anything else.
 */
export function scanAcks(c: WireCursor, end: number, onAck: AckVisitor | undefined): void {
  while (c.pos < end) {
    const key = varint(c);
    if (key !== ACKS_ELEMENT_TAG) {
      skip(c, key & 7);
      continue;
    }
    const ackEnd = fieldEnd(c, end, "ack");
    let clientSeq = 0;
    while (c.pos < ackEnd) {
      const k = varint(c);
      if (k === ACK_CLIENT_SEQ_TAG) clientSeq = varint(c);
      else skip(c, k & 7);
    }
    onAck?.(clientSeq);
  }
}

/** Reads a frame that holds only acks (its first byte is ACKS_ELEMENT_TAG); returns how many. */
export function scanAckFrame(buf: Uint8Array, onAck: AckVisitor): number {
  let count = 0;
  scanAcks(cursor.reset(buf, 0), buf.length, (clientSeq) => {
    count++;
    onAck(clientSeq);
  });
  return count;
}
