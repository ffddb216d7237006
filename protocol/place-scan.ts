import type { PixelLike } from "../services/shared/pixel-validation.js";

/** A Place read straight from the wire. */
export interface ScannedPlace {
  clientSeq: number;
  pixels: PixelLike[];
}

/** Why a lone Place was refused: `malformed` bytes, or `tooMany` pixels (with its client_seq). */
export type PlaceProblem = { malformed: string } | { tooMany: string; clientSeq: number };

/** ClientFrame.place: field 2, length-delimited. */
const PLACE_TAG = 0x12;
const UINT32_MAX = 0xffffffff;

/**
 * Reads a `ClientFrame{place}` without the generic decoder, which costs about 10 µs per
 * frame and 5 ms per 1,000 pixels here; Places are nearly all the traffic a gateway
 * reads. Returns undefined for anything that is not exactly one Place field (those go
 * through the generic decoder), and a PlaceProblem for a Place that is malformed or
 * carries more than `maxPixels` pixels (counted before any pixel is built). Values above
 * uint32 are refused rather than truncated.
 */
export function scanPlace(bytes: Uint8Array, maxPixels: number): ScannedPlace | PlaceProblem | undefined {
  if (bytes.length < 2 || bytes[0] !== PLACE_TAG) return undefined;
  let pos = 1;
  let failed = false;
  const varint = (limit: number): number => {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10 && pos < limit; i++) {
      const b = bytes[pos++]!;
      result += (b & 0x7f) * multiplier;
      if (b < 0x80) return result;
      multiplier *= 128;
    }
    failed = true;
    return 0;
  };
  const length = varint(bytes.length);
  // Anything after the Place (another field, a second Place) is left to the generic decoder.
  if (failed || pos + length !== bytes.length) return undefined;
  const end = bytes.length;

  // First pass: check the structure and count pixels, so an oversized Place costs no allocation.
  const start = pos;
  let count = 0;
  let clientSeq = 0;
  while (pos < end) {
    const tag = varint(end);
    if (failed) return { malformed: "the Place is truncated" };
    if (tag === 0x12) {
      const n = varint(end);
      if (failed || pos + n > end) return { malformed: "a pixel of the Place is truncated" };
      pos += n;
      count++;
    } else if (tag === 0x08) {
      clientSeq = varint(end);
      if (failed) return { malformed: "the Place's client_seq is truncated" };
      if (clientSeq > UINT32_MAX) return { malformed: `client_seq ${clientSeq} is above uint32` };
    } else {
      return undefined;
    }
  }
  if (count > maxPixels) return { tooMany: `the batch has ${count} pixels; at most ${maxPixels} are allowed per call`, clientSeq };

  pos = start;
  const pixels: PixelLike[] = new Array<PixelLike>(count);
  let i = 0;
  while (pos < end) {
    const tag = varint(end);
    if (tag === 0x08) {
      varint(end);
      continue;
    }
    const n = varint(end);
    const stop = pos + n;
    let x = 0;
    let y = 0;
    let color = 0;
    while (pos < stop) {
      const t = varint(stop);
      const v = varint(stop);
      if (failed) return { malformed: `pixel ${i} is malformed` };
      if (v > UINT32_MAX) return { malformed: `pixel ${i} has a value above uint32` };
      if (t === 0x08) x = v;
      else if (t === 0x10) y = v;
      else if (t === 0x18) color = v;
      // Unknown varint fields are skipped; any other wire type is handed to the generic decoder.
      else if ((t & 7) !== 0) return undefined;
    }
    pixels[i++] = { x, y, color };
  }
  return { clientSeq, pixels };
}
