const UINT32_MAX = 0xffff_ffffn;
const LOW_32 = 0xffff_ffffn;
const MAX_VARINT_BYTES = 10;
const END_GROUP = 4n;

/** Where a ClientFrame's Place carries a varint above uint32, which the generated decoder would silently truncate. */
export interface Uint32Overflow {
  /** A value the decoder keeps in client_seq, x, y or color (last one wins, Places merge): the Place is invalid. */
  known: string | undefined;
  /** In an unknown varint field of a Place or Pixel, which the decoder keeps as an unknown uint64. */
  unknown: string | undefined;
}

/**
 * Walks the raw bytes of a ClientFrame the way the generated decoder reads them and reports the
 * varints above uint32 it would truncate into the final Place. Its reading rules, followed here:
 * a known field (client_seq, pixels, x, y, color; hello, place, set_name, ping, watch) is read
 * whatever its wire type says (a scalar as a varint, a message by a length prefix truncated to 32
 * bits); a varint runs on past the end of the message it starts in, and the next field is read
 * from where it stopped; repeated Place fields merge (a later client_seq, or a later x, y or color
 * in the same pixel, replaces the earlier one, so an overwritten value does not count); another
 * oneof member discards the Place read so far. Well-formedness itself is left to the decoder:
 * call this only on frames it accepts.
 */
export function findUint32Overflow(bytes: Uint8Array): Uint32Overflow {
  let unknown: string | undefined;
  let clientSeqOverflow: string | undefined;
  let pixelOverflow: string | undefined;
  let pixelIndex = 0;
  let pos = 0;
  const read = (): bigint | undefined => {
    let result = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES && pos < bytes.length; i++) {
      const b = bytes[pos++] as number;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return result;
    }
    return undefined;
  };
  /** A length prefix, as the decoder reads it: a uint32, so truncated to its low 32 bits. */
  const readLength = (): number | undefined => {
    const n = read();
    return n === undefined ? undefined : Number(n & LOW_32);
  };
  /** Skips an unknown field's value (groups included, as the decoder does); false when it cannot. */
  const skip = (tag: bigint): boolean => {
    const wireType = tag & 7n;
    if (wireType === 0n) return read() !== undefined;
    if (wireType === 1n) pos += 8;
    else if (wireType === 5n) pos += 4;
    else if (wireType === 2n) {
      const n = readLength();
      if (n === undefined) return false;
      pos += n;
    } else if (wireType === 3n) {
      for (;;) {
        const t = read();
        if (t === undefined) return false;
        if ((t & 7n) === END_GROUP) return t >> 3n === tag >> 3n;
        if (!skip(t)) return false;
      }
    } else return false;
    return pos <= bytes.length;
  };
  const noteUnknown = (what: string, value: bigint) => {
    if (value > UINT32_MAX) unknown ??= `${what} = ${value}`;
  };

  const pixel = (end: number): boolean => {
    const kept: (string | undefined)[] = [undefined, undefined, undefined];
    while (pos < end) {
      const t = read();
      if (t === undefined) return false;
      const field = t >> 3n;
      if (field >= 1n && field <= 3n) {
        const v = read();
        if (v === undefined) return false;
        kept[Number(field) - 1] = v > UINT32_MAX ? `pixel ${pixelIndex} ${["x", "y", "color"][Number(field) - 1]} = ${v}` : undefined;
      } else if ((t & 7n) === 0n) {
        const v = read();
        if (v === undefined) return false;
        noteUnknown(`pixel ${pixelIndex} unknown field ${field}`, v);
      } else if (!skip(t)) return false;
    }
    pixelOverflow ??= kept.find((k) => k !== undefined);
    pixelIndex++;
    return true;
  };
  const place = (end: number): boolean => {
    while (pos < end) {
      const t = read();
      if (t === undefined) return false;
      const field = t >> 3n;
      if (field === 1n) {
        const v = read();
        if (v === undefined) return false;
        clientSeqOverflow = v > UINT32_MAX ? `client_seq = ${v}` : undefined;
      } else if (field === 2n) {
        const n = readLength();
        if (n === undefined || !pixel(pos + n)) return false;
      } else if ((t & 7n) === 0n) {
        const v = read();
        if (v === undefined) return false;
        noteUnknown(`Place unknown field ${field}`, v);
      } else if (!skip(t)) return false;
    }
    return true;
  };
  while (pos < bytes.length) {
    const t = read();
    if (t === undefined) break;
    const field = t >> 3n;
    if (field === 2n) {
      const n = readLength();
      if (n === undefined || !place(pos + n)) break;
    } else if (field >= 1n && field <= 5n) {
      // Another oneof member: a later Place starts afresh.
      clientSeqOverflow = undefined;
      pixelOverflow = undefined;
      pixelIndex = 0;
      const n = readLength();
      if (n === undefined) break;
      pos += n;
    } else if (!skip(t)) break;
  }
  return { known: clientSeqOverflow ?? pixelOverflow, unknown };
}
