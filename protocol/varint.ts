import { WireType } from "./wire-tags.js";

/**
 * Protobuf varints, read and written in place: the one copy every scanner and frame builder
 * of the wire uses. Readers take a WireCursor so a scanner can keep one per module and read
 * a frame without allocating.
 */

/** The longest varint protobuf allows (a 64-bit value). */
const MAX_VARINT_BYTES = 10;
/** The highest wire type (fixed32); 6 and 7 do not exist. */
const MAX_WIRE_TYPE = WireType.FIXED32;

/** A read position in one message; scanners reset a module-level one per frame. */
export class WireCursor {
  /** The bytes being read. */
  bytes: Uint8Array = new Uint8Array(0);
  /** The next byte to read. */
  pos = 0;
  /** Set by every readUint32 to whether the varint it read had bits above the low 32. */
  overflow = false;

  /** Points the cursor at `bytes`, starting at `pos`. */
  reset(bytes: Uint8Array, pos = 0): this {
    this.bytes = bytes;
    this.pos = pos;
    this.overflow = false;
    return this;
  }
}

/**
 * Reads a varint of at most 10 bytes. Returns its value, exact up to 2^53 (seq, epoch and
 * times stay far below that), or -1 when the bytes end first or the varint is longer.
 */
export function readVarint(c: WireCursor): number {
  const bytes = c.bytes;
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < MAX_VARINT_BYTES && c.pos < bytes.length; i++) {
    const b = bytes[c.pos++]!;
    result += (b & 0x7f) * multiplier;
    if (b < 0x80) return result;
    multiplier *= 128;
  }
  return -1;
}

/**
 * Reads a varint as protobuf's uint32 reader does: up to 10 bytes, keeping the low 32 bits.
 * Returns -1 when the bytes end first or the varint is longer; sets `c.overflow` to whether
 * bits above the low 32 were set, so a caller can refuse what the generic decoder truncates.
 */
export function readUint32(c: WireCursor): number {
  const bytes = c.bytes;
  let pos = c.pos;
  // Up to four bytes (values below 2^28: every tag, length and coordinate) without the general loop.
  if (pos + 4 <= bytes.length) {
    let b = bytes[pos++]!;
    let value = b & 0x7f;
    if (b < 0x80) return done(c, pos, value);
    b = bytes[pos++]!;
    value |= (b & 0x7f) << 7;
    if (b < 0x80) return done(c, pos, value);
    b = bytes[pos++]!;
    value |= (b & 0x7f) << 14;
    if (b < 0x80) return done(c, pos, value);
    b = bytes[pos++]!;
    value |= (b & 0x7f) << 21;
    if (b < 0x80) return done(c, pos, value);
  }
  return readLongUint32(c);
}

function done(c: WireCursor, pos: number, value: number): number {
  c.pos = pos;
  c.overflow = false;
  return value;
}

function readLongUint32(c: WireCursor): number {
  const bytes = c.bytes;
  const end = bytes.length;
  let pos = c.pos;
  let low = 0;
  let high = 0;
  let multiplier = 1;
  for (let i = 0; i < MAX_VARINT_BYTES && pos < end; i++) {
    const b = bytes[pos++]!;
    if (i < 4) low += (b & 0x7f) * multiplier;
    else if (i === 4) {
      low += (b & 0x0f) * multiplier;
      high = b & 0x70;
    } else {
      // The tenth byte holds only bit 63; protobuf drops anything above it.
      high |= b & (i < MAX_VARINT_BYTES - 1 ? 0x7f : 0x01);
    }
    if (b < 0x80) {
      c.pos = pos;
      c.overflow = high !== 0;
      return low;
    }
    multiplier *= 128;
  }
  c.pos = pos;
  return -1;
}

/**
 * Reads a field tag as protobuf-es's decoder does; -1 for one it rejects: truncated, longer than
 * uint32, field number 0, or wire type 6 or 7.
 */
export function readTag(c: WireCursor): number {
  // A one-byte tag (fields 1 to 15) is every tag of a usual frame: keep it small enough to inline.
  const bytes = c.bytes;
  const pos = c.pos;
  if (pos < bytes.length) {
    const b = bytes[pos]!;
    if (b < 0x80) {
      c.pos = pos + 1;
      return b < 8 || (b & 7) > MAX_WIRE_TYPE ? -1 : b;
    }
  }
  return readLongTag(c);
}

function readLongTag(c: WireCursor): number {
  const start = c.pos;
  const tag = readUint32(c);
  if (tag < 0) return -1;
  const length = c.pos - start;
  if (length > 5 || (length === 5 && c.bytes[c.pos - 1]! > 0x0f)) return -1;
  if (tag >>> 3 === 0 || (tag & 7) > MAX_WIRE_TYPE) return -1;
  return tag;
}

/** How many bytes the varint starting at `c.pos` takes, or -1 when it runs past the end. */
function varintEnd(c: WireCursor): number {
  const bytes = c.bytes;
  let pos = c.pos;
  // Skipping has no length limit, exactly as protobuf's generic skip.
  while (pos < bytes.length) if (bytes[pos++]! < 0x80) return pos;
  return -1;
}

/**
 * Skips one field's value of wire type 0, 1, 2 or 5 as protobuf's generic skip does.
 * Returns false when it runs past the end or the wire type is a group (3, 4) or invalid.
 */
export function skipField(c: WireCursor, wireType: number): boolean {
  switch (wireType) {
    case 0: {
      const end = varintEnd(c);
      if (end < 0) return false;
      c.pos = end;
      return true;
    }
    case 1:
      c.pos += 8;
      break;
    case 2: {
      // Read the length before adding: `c.pos += readUint32(c)` would add to the stale pos.
      const length = readUint32(c);
      if (length < 0) return false;
      c.pos += length;
      break;
    }
    case 5:
      c.pos += 4;
      break;
    default:
      return false;
  }
  return c.pos <= c.bytes.length;
}

/** Bytes the varint of a non-negative safe integer takes. */
export function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/**
 * Writes a varint of any non-negative safe integer at `at`; returns the position after it.
 * Division instead of bit shifts: seq, epoch and times exceed 32 bits.
 */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  let o = at;
  let n = value;
  while (n >= 0x80) {
    out[o++] = (n % 128) + 128;
    n = Math.floor(n / 128);
  }
  out[o++] = n;
  return o;
}

/** Writes a uint32 varint at `at` with bit operations (the per-pixel fast path); returns the position after it. */
export function writeUint32(out: Uint8Array, at: number, value: number): number {
  let o = at;
  let n = value >>> 0;
  while (n > 0x7f) {
    out[o++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[o++] = n;
  return o;
}

