import type { Hello, Watch } from "../../../gen/pixel/v1/realtime_pb.js";
import { MAX_PIXELS_PER_PLACE } from "../../shared/config.js";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import * as metrics from "../gateway-metrics.js";
import { scanPlace } from "../../../protocol/place-scan.js";
import { decodeClientFrame } from "../../../protocol/frame-codec.js";

/** What a session does with each kind of client frame. */
export interface ClientFrameHandlers {
  hello(hello: Hello): void;
  place(clientSeq: number, pixels: PixelLike[]): void;
  setName(name: string): void;
  ping(nonce: bigint): void;
  watch(watch: Watch): void;
  /** A Place the scanner refused: too many pixels, or a value above uint32. */
  invalidPlace(clientSeq: number, message: string): void;
  /** Bytes that are no ClientFrame. */
  malformed(message: string): void;
}

/** Decodes one client message at the edge and hands it to the matching handler; never throws. */
export function dispatchClientFrame(data: Uint8Array, isBinary: boolean, to: ClientFrameHandlers): void {
  // Fast path for the frame that is nearly all the traffic.
  const scanned = isBinary ? scanPlace(data, MAX_PIXELS_PER_PLACE) : undefined;
  if (scanned !== undefined) {
    if ("malformed" in scanned) return malformed(to, scanned.malformed);
    metrics.placeFramesIn.inc();
    if ("invalid" in scanned) return to.invalidPlace(scanned.clientSeq, scanned.invalid);
    return to.place(scanned.clientSeq, scanned.pixels);
  }
  const decoded = decodeClientFrame(data, isBinary);
  if (!decoded.ok) return malformed(to, decoded.message);
  const { frame } = decoded;
  metrics.framesIn.labels(frame.case).inc();
  switch (frame.case) {
    case "hello":
      return to.hello(frame.value);
    case "place":
      return to.place(frame.value.clientSeq, frame.value.pixels);
    case "setName":
      return to.setName(frame.value.name);
    case "ping":
      return to.ping(frame.value.nonce);
    case "watch":
      return to.watch(frame.value);
    default: {
      const _exhaustive: never = frame;
      return _exhaustive;
    }
  }
}

function malformed(to: ClientFrameHandlers, message: string): void {
  metrics.framesIn.labels("malformed").inc();
  to.malformed(message);
}
