/** Protobuf wire types used by the fuzzer. */
export const WT = { varint: 0, fixed64: 1, len: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

/** The bytes of a base-128 varint; bigint so values above 2^53 (and above uint64) can be written. */
export function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** A varint padded to `length` bytes with continuation bits (legal protobuf, unusual on the wire). */
export function overlongVarint(value: number, length: number): number[] {
  const out = varint(value);
  while (out.length < length) {
    out[out.length - 1] = (out[out.length - 1] as number) | 0x80;
    out.push(0);
  }
  return out;
}

/** A field tag: (field number << 3) | wire type, as a varint. */
export function tag(field: number, wireType: number): number[] {
  return varint((BigInt(field) << 3n) | BigInt(wireType));
}

/** A varint field. */
export function varintField(field: number, value: number | bigint): number[] {
  return [...tag(field, WT.varint), ...varint(value)];
}

/** A length-delimited field holding `body`. */
export function lenField(field: number, body: ArrayLike<number>): number[] {
  return [...tag(field, WT.len), ...varint(body.length), ...Array.from(body)];
}

/** One pixel.v1.Pixel; values may be bigints above uint32 on purpose. */
export interface RawPixel {
  x: number | bigint;
  y: number | bigint;
  color: number | bigint;
}

/** The body of a pixel.v1.Pixel (fields always written, even zeros, so every pixel has bytes). */
export function pixelBody(p: RawPixel): number[] {
  return [...varintField(1, p.x), ...varintField(2, p.y), ...varintField(3, p.color)];
}

/** The body of a pixel.v1.Place made of already-encoded pixel bodies. */
export function placeBody(clientSeq: number | bigint, pixelBodies: readonly number[][]): number[] {
  return [...varintField(1, clientSeq), ...pixelBodies.flatMap((b) => lenField(2, b))];
}

/** A ClientFrame{place}. */
export function placeFrame(clientSeq: number | bigint, pixels: readonly RawPixel[]): Uint8Array {
  return Uint8Array.from(lenField(2, placeBody(clientSeq, pixels.map(pixelBody))));
}
