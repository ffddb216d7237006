import { CloseCode, ErrorCode } from "../../../gen/pixel/v1/realtime_pb.js";
import { MAX_PIXELS_PER_PLACE } from "../../shared/config.js";
import type { Connection } from "../session/connection.js";
import * as metrics from "../gateway-metrics.js";
import { scanPlace } from "../../../protocol/place-scan.js";
import { decodeClientFrame } from "../../../protocol/frame-codec.js";

/** Malformed frames a connection may send before it is closed with 1008. */
export const MAX_MALFORMED_FRAMES = 16;

/**
 * Handles one WebSocket message of a connection: decode at the edge, answer
 * malformed input with MALFORMED_FRAME (closing with 1008 on repeated abuse), hold
 * frames back while a Hello is being served, and dispatch the rest. Never throws.
 */
export function handleMessage(conn: Connection, data: Uint8Array, isBinary: boolean): void {
  switch (conn.state) {
    case "closed":
      return;
    case "joining":
      // Frames pipelined after a Hello are served once the Welcome is out, in order.
      if (!conn.defer(data, isBinary)) conn.forceClose(CloseCode.POLICY_VIOLATION, "too many frames before the Welcome");
      return;
    case "awaiting-hello":
    case "live":
    case "behind":
      break;
  }
  // Fast path for the frame that is nearly all the traffic.
  const scanned = isBinary ? scanPlace(data, MAX_PIXELS_PER_PLACE) : undefined;
  if (scanned !== undefined) {
    if ("malformed" in scanned) return malformed(conn, scanned.malformed);
    metrics.placeFramesIn.inc();
    if ("invalid" in scanned) return conn.refuse(ErrorCode.INVALID_ARGUMENT, scanned.invalid, scanned.clientSeq);
    return conn.place(scanned.clientSeq, scanned.pixels);
  }
  const decoded = decodeClientFrame(data, isBinary);
  if (!decoded.ok) return malformed(conn, decoded.message);
  const { frame } = decoded;
  metrics.framesIn.labels(frame.case).inc();
  switch (frame.case) {
    case "hello":
      conn.hello(frame.value).then(
        () => {
          for (const next of conn.takeDeferred()) handleMessage(conn, next.data, next.isBinary);
        },
        (err: Error) => {
          conn.log.error({ err: err.message, stack: err.stack }, "Hello failed");
          conn.sendError(ErrorCode.INTERNAL, `internal error; see the gateway log for connection ${conn.id}`);
          // Its state is unknown after an unexpected fault: make the client start over.
          conn.close(CloseCode.INTERNAL_ERROR, "internal error");
        },
      );
      return;
    case "place":
      return conn.place(frame.value.clientSeq, frame.value.pixels);
    case "setName":
      return conn.setName(frame.value.name);
    case "ping":
      return conn.ping(frame.value.nonce);
  }
}

function malformed(conn: Connection, message: string): void {
  metrics.framesIn.labels("malformed").inc();
  conn.malformedCount++;
  conn.sendError(ErrorCode.MALFORMED_FRAME, message);
  if (conn.malformedCount >= MAX_MALFORMED_FRAMES) conn.forceClose(CloseCode.POLICY_VIOLATION, `${MAX_MALFORMED_FRAMES} malformed frames`);
}
