/**
 * Reads a `ServerFrame{batch}` or `ServerFrame{batches}` in place: every batch's seq and every
 * pixel colour, without decoding into objects. The load generator receives millions of pixels
 * per second on two cores it shares with the servers, so this is its hot path; the frame codec
 * of the app (web/src/protocol/frame-codec.ts) decodes everything else, and a test checks that
 * both read the same frames the same way.
 */

/** ServerFrame.batch, field 2, length-delimited. */
export const BATCH_FRAME_TAG = 0x12;
/** ServerFrame.batches, field 7, length-delimited: a Batches message of coalesced batches. */
export const BATCHES_FRAME_TAG = 0x3a;
/** Batches.batches, field 1, length-delimited: one PixelBatch. */
const BATCHES_ITEM_TAG = 0x0a;

/** Called once per pixel with its colour. */
export type ColorVisitor = (color: number) => void;

let pos = 0;

function varint(buf: Uint8Array): number {
  let result = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 128;
  }
}

function skip(buf: Uint8Array, wireType: number): void {
  switch (wireType) {
    case 0: varint(buf); return;
    case 1: pos += 8; return;
    case 2: { const n = varint(buf); pos += n; return; }
    case 5: pos += 4; return;
    default: throw new Error(`wire type ${wireType} cannot be skipped`);
  }
}

/** Called once per batch, after its pixels, with its seq. */
export type SeqVisitor = (seq: number) => void;

/** Reads the length of a field at `pos` and returns where it ends, checking it against `limit`. */
function fieldEnd(buf: Uint8Array, limit: number, what: string): number {
  const end = varint(buf) + pos;
  if (end > limit) throw new Error(`${what} truncated: ${limit} bytes, needs ${end}`);
  return end;
}

/** Visits the pixels of the PixelBatch from `pos` to `end`; returns its seq. */
function scanBatch(buf: Uint8Array, end: number, visit: ColorVisitor): number {
  let seq = 0;
  while (pos < end) {
    const key = varint(buf);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 2 && wire === 0) {
      seq = varint(buf);
    } else if (field === 3 && wire === 2) {
      const pixelEnd = varint(buf) + pos;
      let color = 0;
      while (pos < pixelEnd) {
        const k = varint(buf);
        if (k === 0x18) color = varint(buf);
        else skip(buf, k & 7);
      }
      visit(color);
    } else {
      skip(buf, wire);
    }
  }
  return seq;
}

/**
 * Visits every pixel colour of a batch frame and returns the batch's seq, or -1 when
 * the frame is not a batch. Throws on truncated input.
 */
export function scanBatchFrame(buf: Uint8Array, visit: ColorVisitor): number {
  if (buf.length < 2 || buf[0] !== BATCH_FRAME_TAG) return -1;
  pos = 1;
  return scanBatch(buf, fieldEnd(buf, buf.length, "batch frame"), visit);
}

/**
 * Reads a `batch` or a coalesced `batches` frame: visits each batch's pixel colours and then
 * calls `onBatch` with its seq, batch by batch in order, exactly as for that many batch frames.
 * Returns the number of batches, or -1 when the frame is neither. Throws on truncated input.
 */
export function scanBatchFrames(buf: Uint8Array, visit: ColorVisitor, onBatch: SeqVisitor): number {
  if (buf.length < 2) return -1;
  if (buf[0] === BATCH_FRAME_TAG) {
    onBatch(scanBatchFrame(buf, visit));
    return 1;
  }
  if (buf[0] !== BATCHES_FRAME_TAG) return -1;
  pos = 1;
  const end = fieldEnd(buf, buf.length, "batches frame");
  let count = 0;
  while (pos < end) {
    const key = varint(buf);
    if (key !== BATCHES_ITEM_TAG) {
      skip(buf, key & 7);
      continue;
    }
    const batchEnd = fieldEnd(buf, end, "batch in a batches frame");
    onBatch(scanBatch(buf, batchEnd, visit));
    count++;
  }
  return count;
}
