import type { PixelLike } from "../../protocol/pixel-validation.js";
import { varintLength, writeUint32, writeVarint } from "../../protocol/varint.js";
import {
  AUTHOR_NAME_TAG,
  AUTHOR_PIXEL_COUNT_TAG,
  AUTHOR_USER_ID_TAG,
  BATCH_AUTHORS_TAG,
  BATCH_AUTHOR_TAG,
  BATCH_CANVAS_ID_TAG,
  BATCH_EPOCH_TAG,
  BATCH_PIXEL_TAG,
  BATCH_SEQ_TAG,
  BATCH_TIME_TAG,
  PIXEL_COLOR_TAG,
  PIXEL_X_TAG,
  PIXEL_Y_TAG,
} from "../../protocol/wire-tags.js";
import type { AuthorRun } from "../shared/author-runs.js";

/**
 * Encodes a `pixel.v1.PixelBatch` WITHOUT its seq (field 2) and epoch (field 6): the store
 * assigns those atomically and prepends them (see `prefixSeqEpoch` and the Lua write script).
 * Protobuf accepts fields in any order, so prefix + body is a valid PixelBatch. Written by hand
 * because it runs once per batch on the hot path, where the generic BinaryWriter cost about
 * 1.5 ms per 1,000 pixels. `authors` (field 7) says who placed which pixels.
 */
export function encodeBatchBody(canvasId: string, pixels: readonly PixelLike[], author: string, timeUnixMs: number, authors: readonly AuthorRun[] = []): Uint8Array {
  return Buffer.concat([encodeBatchHead(canvasId), encodePixels(pixels), encodeBatchTail(author, timeUnixMs), ...authors.map(encodeAuthor)]);
}

/**
 * The fields of a batch body before its pixels (canvas_id). A body is head + the encoded pixels of
 * each stored run (`encodePixels`, concatenated: a repeated field may arrive in pieces) + tail +
 * the Author of each stored run (`encodeAuthor`), so a store can leave out the runs its budgets
 * refused, pixels and authorship alike, without re-encoding the others.
 */
export function encodeBatchHead(canvasId: string): Uint8Array {
  const id = Buffer.from(canvasId, "utf8");
  const out = Buffer.allocUnsafe(id.length + 6);
  return out.subarray(0, writeBytesField(out, 0, BATCH_CANVAS_ID_TAG, id));
}

/** PixelBatch.pixels (field 3) entries for `pixels`, in order. */
export function encodePixels(pixels: readonly PixelLike[]): Uint8Array {
  // Upper bound: each pixel is a tag, a 1-byte length and three tagged 5-byte varints (20 bytes).
  const out = Buffer.allocUnsafe(pixels.length * 20);
  let o = 0;
  for (const p of pixels) {
    out[o++] = BATCH_PIXEL_TAG;
    const lengthAt = o++;
    // proto3 omits zero scalars; decoders treat a missing field as 0.
    if (p.x !== 0) {
      out[o++] = PIXEL_X_TAG;
      o = writeUint32(out, o, p.x);
    }
    if (p.y !== 0) {
      out[o++] = PIXEL_Y_TAG;
      o = writeUint32(out, o, p.y);
    }
    if (p.color !== 0) {
      out[o++] = PIXEL_COLOR_TAG;
      o = writeUint32(out, o, p.color);
    }
    // At most 3 x 6 bytes, so the length always fits in the one byte reserved for it.
    out[lengthAt] = o - lengthAt - 1;
  }
  return out.subarray(0, o);
}

/** The fields of a batch body after its pixels: author (field 4) and time_unix_ms (field 5). */
export function encodeBatchTail(author: string, timeUnixMs: number): Uint8Array {
  const who = Buffer.from(author, "utf8");
  const out = Buffer.allocUnsafe(who.length + 32);
  let o = writeBytesField(out, 0, BATCH_AUTHOR_TAG, who);
  if (timeUnixMs > 0) {
    out[o++] = BATCH_TIME_TAG;
    o = writeVarint(out, o, timeUnixMs);
  }
  return out.subarray(0, o);
}

/** One PixelBatch.authors (field 7) entry: user_id, name and pixel_count (an Author's ip_key is never written). */
export function encodeAuthor(run: AuthorRun): Uint8Array {
  const userId = Buffer.from(run.userId, "utf8");
  const name = Buffer.from(run.name, "utf8");
  const field = (b: Buffer) => (b.length === 0 ? 0 : 1 + varintLength(b.length) + b.length);
  const length = field(userId) + field(name) + (run.pixelCount === 0 ? 0 : 1 + varintLength(run.pixelCount));
  const out = Buffer.allocUnsafe(1 + varintLength(length) + length);
  out[0] = BATCH_AUTHORS_TAG;
  let o = writeVarint(out, 1, length);
  o = writeBytesField(out, o, AUTHOR_USER_ID_TAG, userId);
  o = writeBytesField(out, o, AUTHOR_NAME_TAG, name);
  if (run.pixelCount !== 0) {
    out[o++] = AUTHOR_PIXEL_COUNT_TAG;
    o = writeUint32(out, o, run.pixelCount);
  }
  return out.subarray(0, o);
}

/**
 * An Author's user_id and name fields without its pixel_count, for a store script that appends the
 * count (only it knows how many pixels a conditional restore writes) and the field's length.
 */
export function encodeAuthorIdentity(userId: string, name: string): Uint8Array {
  const id = Buffer.from(userId, "utf8");
  const who = Buffer.from(name, "utf8");
  const out = Buffer.allocUnsafe(id.length + who.length + 12);
  return out.subarray(0, writeBytesField(out, writeBytesField(out, 0, AUTHOR_USER_ID_TAG, id), AUTHOR_NAME_TAG, who));
}

/** Writes a length-delimited field (skipped when empty, as proto3 does); returns the new position. */
function writeBytesField(out: Buffer, at: number, tag: number, bytes: Buffer): number {
  if (bytes.length === 0) return at;
  let o = at;
  out[o++] = tag;
  o = writeVarint(out, o, bytes.length);
  return o + bytes.copy(out, o);
}

/**
 * Prepends seq (field 2) and epoch (field 6) to a body from `encodeBatchBody`, giving the bytes
 * the embedded store publishes. It mirrors the Lua script's prefix byte for byte.
 */
export function prefixSeqEpoch(body: Uint8Array, seq: number, epoch: number): Uint8Array {
  const out = new Uint8Array(2 + varintLength(seq) + varintLength(epoch) + body.length);
  out[0] = BATCH_SEQ_TAG;
  let o = writeVarint(out, 1, seq);
  out[o++] = BATCH_EPOCH_TAG;
  o = writeVarint(out, o, epoch);
  out.set(body, o);
  return out;
}
