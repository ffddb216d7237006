import { ConnectError } from "@connectrpc/connect";
import { ErrorCode } from "../../../gen/pixel/v1/realtime_pb.js";
import type { ConnectionState } from "../protocol/canvas-client-types.js";
import type { StrokeRefusal } from "./stroke-sender.js";

function pixelsText(n: number): string {
  return n === 1 ? "1 pixel" : `${n} pixels`;
}

/** The status line shown for each connection state (the browser test waits for these words). */
export function statusText(state: ConnectionState): string {
  switch (state) {
    case "idle":
    case "connecting":
      return "connecting…";
    case "live":
      return "live";
    case "resyncing":
      return "resyncing…";
    case "reconnecting":
      return "reconnecting…";
    case "closed":
      return "closed";
  }
}

/** A user-facing sentence for an Error frame; `pixels` is how many were rolled back. */
export function errorText(code: ErrorCode, message: string, pixels: number): string {
  const lost = pixels > 0 ? ` (${pixelsText(pixels)} taken back)` : "";
  switch (code) {
    case ErrorCode.RATE_LIMITED:
      return `Rate limited: slow down a little${lost}.`;
    case ErrorCode.UNAVAILABLE:
      return `Not stored: service unavailable${lost}.`;
    case ErrorCode.OVERLOADED:
      return `Not stored: the server is busy${lost}.`;
    case ErrorCode.INVALID_ARGUMENT:
      return `Refused: ${message}${lost}.`;
    case ErrorCode.NOT_FOUND:
      return `This canvas does not exist: ${message}.`;
    case ErrorCode.UNAUTHENTICATED:
      return `Not stored: this page has no valid session; reload it to get one${lost}.`;
    case ErrorCode.BANNED:
      return `Not stored: ${message}${lost}.`;
    case ErrorCode.UNSUPPORTED_PROTOCOL:
      return "This page is out of date: reload it to keep drawing.";
    case ErrorCode.NOT_JOINED:
    case ErrorCode.MALFORMED_FRAME:
    case ErrorCode.INTERNAL:
    case ErrorCode.UNSPECIFIED:
      return `Server error: ${message}${lost}.`;
  }
}

/** A user-facing sentence for a placement the client refused before sending. */
export function refusalText(refusal: StrokeRefusal): string {
  switch (refusal.reason) {
    case "not-live":
      return `Not connected (${statusText(refusal.state)}): nothing was placed.`;
    case "invalid":
      return `Not placed: ${refusal.message}.`;
  }
}

/** A user-facing sentence for paint taken back because its connection dropped before the Ack. */
export function connectionLostText(pixels: number): string {
  return `Connection lost before ${pixelsText(pixels)} were confirmed; they reappear if they were stored.`;
}

/** What an undo did: the pixels given their previous colour back, and those left because someone painted them since. */
export function undoneText(restored: number, skipped: number): string {
  const kept = skipped > 0 ? `; ${pixelsText(skipped)} kept, painted over since` : "";
  return `Undone: ${pixelsText(restored)} restored${kept}.`;
}

/** Why an undo was refused, in the server's words (too late, too often, painted over, nothing to undo). */
export function undoFailedText(err: unknown): string {
  return `Not undone: ${err instanceof ConnectError ? err.rawMessage : String(err)}.`;
}
