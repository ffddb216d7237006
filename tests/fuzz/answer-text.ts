import { CloseCode, ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import type { Expectation } from "./ws-oracle.js";

/** A close code with its CloseCode name when it has one. */
export function closeName(code: number): string {
  return CloseCode[code] ? `${code} ${CloseCode[code]}` : `${code} (not a documented CloseCode)`;
}

/** An expectation in words. */
export function describeExpectation(e: Expectation): string {
  switch (e.kind) {
    case "ack": return `an Ack for client_seq ${e.clientSeq}`;
    case "error": return `Error ${e.codes.map((c) => ErrorCode[c]).join(" or ")}${e.clientSeq === undefined ? "" : ` (client_seq ${e.clientSeq})`} because ${e.why}`;
    case "pong": return `Pong ${e.nonce}`;
    case "welcome": return "a Welcome";
    case "watching": return "a Watching";
    case "silent": return "no answer";
    case "skip": return `nothing (skipped: ${e.why})`;
  }
}
