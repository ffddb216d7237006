const UINT32_MAX = 0xffff_ffffn;

/** Where a ClientFrame's Place carries a varint above uint32, which the generated decoder would silently truncate. */
export interface Uint32Overflow {
  /** In a field the decoder reads as uint32 (client_seq, x, y, color) or in a length prefix: the Place is invalid. */
  known: string | undefined;
  /** In an unknown varint field of a Place or Pixel, which the decoder keeps as an unknown uint64. */
  unknown: string | undefined;
}

/**
 * Walks the raw bytes of a ClientFrame and reports varints above uint32 inside its Place fields
 * (every occurrence: the decoder merges repeated Place fields). The generated decoder cannot say
 * this, since it truncates such values to 32 bits; well-formedness itself is left to it.
 */
export function findUint32Overflow(bytes: Uint8Array): Uint32Overflow {
  const found: Uint32Overflow = { known: undefined, unknown: undefined };
  let pos = 0;
  const read = (end: number): bigint | undefined => {
    let result = 0n;
    for (let i = 0; i < 10 && pos < end; i++) {
      const b = bytes[pos++] as number;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return result;
    }
    return undefined;
  };
  /** Skips a non-varint value; false when it cannot (groups, truncation). */
  const skip = (wireType: bigint, end: number): boolean => {
    if (wireType === 1n) pos += 8;
    else if (wireType === 5n) pos += 4;
    else if (wireType === 2n) {
      const n = read(end);
      if (n === undefined) return false;
      pos += Number(n);
    } else return false;
    return pos <= end;
  };
  const note = (key: keyof Uint32Overflow, what: string) => (found[key] ??= what);

  const pixel = (end: number, index: number) => {
    while (pos < end) {
      const t = read(end);
      if (t === undefined) return;
      const field = t >> 3n;
      // The generated decoder reads a known uint32 field as a varint whatever its wire type says.
      const known = field >= 1n && field <= 3n;
      if (!known && (t & 7n) !== 0n) {
        if (!skip(t & 7n, end)) return;
        continue;
      }
      const v = read(end);
      if (v === undefined) return;
      if (v > UINT32_MAX) {
        const name = field === 1n ? "x" : field === 2n ? "y" : field === 3n ? "color" : undefined;
        if (name) note("known", `pixel ${index} ${name} = ${v}`);
        else note("unknown", `pixel ${index} unknown field ${field} = ${v}`);
      }
    }
  };
  const place = (end: number) => {
    let index = 0;
    while (pos < end) {
      const t = read(end);
      if (t === undefined) return;
      const field = t >> 3n;
      const wireType = t & 7n;
      if (field === 2n && wireType === 2n) {
        const n = read(end);
        if (n === undefined) return;
        if (n > UINT32_MAX) return void note("known", `pixel ${index} length = ${n}`);
        const stop = Math.min(end, pos + Number(n));
        pixel(stop, index++);
        pos = stop;
      } else if (wireType === 0n || field === 1n) {
        // client_seq (field 1) is read as a varint whatever its wire type, as the generated decoder does.
        const v = read(end);
        if (v === undefined) return;
        if (v > UINT32_MAX) {
          if (field === 1n) note("known", `client_seq = ${v}`);
          else note("unknown", `Place unknown field ${field} = ${v}`);
        }
      } else if (!skip(wireType, end)) return;
    }
  };
  while (pos < bytes.length) {
    const t = read(bytes.length);
    if (t === undefined) break;
    if (t === ((2n << 3n) | 2n)) {
      const n = read(bytes.length);
      if (n === undefined) break;
      if (n > UINT32_MAX) {
        note("known", `Place length = ${n}`);
        break;
      }
      const stop = Math.min(bytes.length, pos + Number(n));
      place(stop);
      pos = stop;
    } else if ((t & 7n) === 0n) {
      if (read(bytes.length) === undefined) break;
    } else if (!skip(t & 7n, bytes.length)) break;
  }
  return found;
}
