import { UINT32_MAX } from "./limits.js";
import type { PixelLike } from "./pixel-validation.js";
import { readTag, readUint32, skipField, WireCursor } from "./varint.js";
import { decodeWidePlace, type WidePlace } from "./wide-place-decode.js";
import { ClientFrameField, PixelField, PlaceField, WireType } from "./wire-tags.js";

/** A Place read straight from the wire. */
export interface ScannedPlace {
  clientSeq: number;
  pixels: PixelLike[];
}

/**
 * Why a Place was refused: `malformed` bytes (the generated decoder rejects them too), or an
 * `invalid` Place (a value above uint32, or more than the allowed pixels) with its client_seq
 * (0 when the client_seq itself is above uint32).
 */
export type PlaceProblem = { malformed: string } | { invalid: string; clientSeq: number };

/** Field numbers as plain constants: the walk compares them per field. */
const PIXEL_X = PixelField.X;
const PIXEL_Y = PixelField.Y;
const PIXEL_COLOR = PixelField.COLOR;

/** walkFrame's verdict when the frame needs the generic decoder (Hello, SetName or Ping fields, groups). */
const UNUSUAL = 1;
const OK = 0;

/** What a walk over a Place frame found. */
class PlaceWalk {
  readonly cursor = new WireCursor();
  pixelCount = 0;
  clientSeq = 0;
  /** Whether the client_seq kept is above uint32. */
  clientSeqOverflow = false;
  /** Why the first pixel with a value above uint32 is refused. */
  overflow: string | undefined = undefined;
}

/** Scratch state of the scan in progress: scans are synchronous, so one serves all. */
const walk = new PlaceWalk();
const cursor = walk.cursor;

/** Skips an unknown field as the generated decoder does; UNUSUAL for a group, a message when it runs past the end. */
function skipUnknown(c: WireCursor, tag: number, what: string): number | string {
  const wireType = tag & 7;
  if (wireType === WireType.START_GROUP) return UNUSUAL;
  return skipField(c, wireType) ? OK : `${what} has a truncated or invalid field ${tag >>> 3}`;
}

/** Reads one Pixel (as the generated decoder: known fields whatever their wire type) into `out`, up to `max` pixels. */
function walkPixel(c: WireCursor, out: PixelLike[], max: number): number | string {
  const length = readUint32(c);
  if (length < 0) return `pixel ${walk.pixelCount} is truncated`;
  const end = c.pos + length;
  let x = 0;
  let y = 0;
  let color = 0;
  // A later field of the same number replaces an earlier one, so only the values kept count.
  let xWide = false;
  let yWide = false;
  let colorWide = false;
  while (c.pos < end) {
    const tag = readTag(c);
    if (tag < 0) return `pixel ${walk.pixelCount} has a malformed or truncated tag`;
    const field = tag >>> 3;
    if (field === PIXEL_X || field === PIXEL_Y || field === PIXEL_COLOR) {
      const value = readUint32(c);
      if (value < 0) return `pixel ${walk.pixelCount} is truncated`;
      if (field === PIXEL_X) {
        x = value;
        xWide = c.overflow;
      } else if (field === PIXEL_Y) {
        y = value;
        yWide = c.overflow;
      } else {
        color = value;
        colorWide = c.overflow;
      }
    } else {
      const skipped = skipUnknown(c, tag, `pixel ${walk.pixelCount}`);
      if (skipped !== OK) return skipped;
    }
  }
  if (xWide || yWide || colorWide) walk.overflow ??= `pixel ${walk.pixelCount} has a value above uint32`;
  if (walk.pixelCount < max) out.push({ x, y, color });
  walk.pixelCount++;
  return OK;
}

/** Reads one Place field; repeated Place fields merge, as protobuf requires. */
function walkPlace(c: WireCursor, out: PixelLike[], max: number): number | string {
  const length = readUint32(c);
  if (length < 0) return "the Place is truncated";
  const end = c.pos + length;
  while (c.pos < end) {
    const tag = readTag(c);
    if (tag < 0) return "the Place is truncated or has a malformed tag";
    const field = tag >>> 3;
    if (field === PlaceField.CLIENT_SEQ) {
      const value = readUint32(c);
      if (value < 0) return "the Place's client_seq is truncated";
      walk.clientSeq = value;
      walk.clientSeqOverflow = c.overflow;
    } else if (field === PlaceField.PIXELS) {
      const read = walkPixel(c, out, max);
      if (read !== OK) return read;
    } else {
      const skipped = skipUnknown(c, tag, "the Place");
      if (skipped !== OK) return skipped;
    }
  }
  return OK;
}

/**
 * Walks a frame whose first field is a Place, following the generated decoder's reading rules
 * byte for byte, and collects its first `max` pixels into `out` (so an oversized Place costs at
 * most that many). Returns OK, UNUSUAL, or why the decoder would reject the bytes.
 */
function walkFrame(c: WireCursor, out: PixelLike[], max: number): number | string {
  walk.pixelCount = 0;
  walk.clientSeq = 0;
  walk.clientSeqOverflow = false;
  walk.overflow = undefined;
  while (c.pos < c.bytes.length) {
    const tag = readTag(c);
    if (tag < 0) return "the frame has a malformed or truncated tag";
    const field = tag >>> 3;
    if (field === ClientFrameField.PLACE) {
      const read = walkPlace(c, out, max);
      if (read !== OK) return read;
    } else if (isOtherFrameField(field)) {
      return UNUSUAL;
    } else {
      const skipped = skipUnknown(c, tag, "the frame");
      if (skipped !== OK) return skipped;
    }
  }
  return OK;
}

/** Whether `field` is a ClientFrame oneof member other than Place (Hello, SetName, Ping, Watch). */
function isOtherFrameField(field: number): boolean {
  return field === ClientFrameField.HELLO || field === ClientFrameField.SET_NAME || field === ClientFrameField.PING || field === ClientFrameField.WATCH;
}

/**
 * Whether the frame is one Hello, SetName, Ping or Watch field spanning it exactly: then it cannot be a
 * Place (reading that field cannot go past the end without failing), and the generic decoder
 * handles it alone.
 */
function isLoneOtherFrame(c: WireCursor, tag: number): boolean {
  const field = tag >>> 3;
  if (!isOtherFrameField(field)) return false;
  const length = readUint32(c);
  return length >= 0 && c.pos + length === c.bytes.length;
}

function tooMany(count: number, maxPixels: number): string {
  return `the batch has ${count} pixels; at most ${maxPixels} are allowed per call`;
}

/** The unusual frames: the generated decoder's verdict, with values checked against uint32. */
function scanWithDecoder(bytes: Uint8Array, maxPixels: number): ScannedPlace | PlaceProblem | undefined {
  let place: WidePlace | undefined;
  try {
    place = decodeWidePlace(bytes);
  } catch (err) {
    return { malformed: `not a pixel.v1.ClientFrame: ${(err as Error).message}` };
  }
  if (!place) return undefined;
  if (place.clientSeq > UINT32_MAX) return { invalid: "the Place's client_seq is above uint32", clientSeq: 0 };
  const seq = Number(place.clientSeq);
  const wide = place.pixels.findIndex((p) => p.x > UINT32_MAX || p.y > UINT32_MAX || p.color > UINT32_MAX);
  if (wide >= 0) return { invalid: `pixel ${wide} has a value above uint32`, clientSeq: seq };
  if (place.pixels.length > maxPixels) return { invalid: tooMany(place.pixels.length, maxPixels), clientSeq: seq };
  return { clientSeq: seq, pixels: place.pixels.map((p) => ({ x: Number(p.x), y: Number(p.y), color: Number(p.color) })) };
}

/**
 * Reads every ClientFrame that decodes to a Place, without the generic decoder for the usual
 * ones: that decoder costs about 10 µs per frame and 5 ms per 1,000 pixels here, and Places are
 * nearly all the traffic a gateway reads. It accepts and rejects exactly what the generated
 * decoder does and yields the same pixels and client_seq, except that a Place value above uint32
 * (which that decoder silently truncates) is `invalid`, as is a Place of more than `maxPixels`
 * pixels (no more than that many are ever built). A value counts when the decoder keeps it, on
 * both paths alike: a client_seq, or an x, y or color in the same pixel, that a later one of the
 * same field replaces (repeated Place fields merge) is not kept, so not truncated; a varint that
 * runs past its message's end is read whole, as the decoder reads it. Returns undefined for
 * frames that are not a Place (Hello, SetName, Ping, or malformed without one); those go to the
 * generic decoder.
 */
export function scanPlace(bytes: Uint8Array, maxPixels: number): ScannedPlace | PlaceProblem | undefined {
  const c = cursor.reset(bytes);
  const first = readTag(c);
  if (first < 0 || isLoneOtherFrame(c, first)) return undefined;
  if (first >>> 3 !== ClientFrameField.PLACE) return scanWithDecoder(bytes, maxPixels);

  const pixels: PixelLike[] = [];
  const checked = walkFrame(c.reset(bytes), pixels, maxPixels);
  if (checked === UNUSUAL) return scanWithDecoder(bytes, maxPixels);
  if (checked !== OK) return { malformed: checked as string };
  if (walk.clientSeqOverflow) return { invalid: "the Place's client_seq is above uint32", clientSeq: 0 };
  if (walk.overflow !== undefined) return { invalid: walk.overflow, clientSeq: walk.clientSeq };
  if (walk.pixelCount > maxPixels) return { invalid: tooMany(walk.pixelCount, maxPixels), clientSeq: walk.clientSeq };
  return { clientSeq: walk.clientSeq, pixels };
}
