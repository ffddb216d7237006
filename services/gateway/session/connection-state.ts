import type { CloseCode } from "../../../gen/pixel/v1/realtime_pb.js";
import type { CanvasRoom } from "../room/canvas-room.js";

/** A client frame that arrived while a Hello was being served, kept to be served after it. */
export interface HeldFrame {
  data: Uint8Array;
  isBinary: boolean;
}

/** Connected, not joined: closed with 4002 when `helloTimer` fires first. */
export interface AwaitingHello {
  readonly kind: "awaiting-hello";
  readonly helloTimer: NodeJS.Timeout;
}

/** A Hello is being served (the room may be loading); frames that arrive meanwhile wait in `deferred`. */
export interface Joining {
  readonly kind: "joining";
  readonly deferred: HeldFrame[];
}

/** Joined `room` and receiving its batches. */
export interface Live {
  readonly kind: "live";
  readonly room: CanvasRoom;
}

/** Joined `room` but skipping its batches since `since` (ms) until the send buffer drains, then resynced. */
export interface Behind {
  readonly kind: "behind";
  readonly room: CanvasRoom;
  readonly since: number;
}

/**
 * The gateway decided to close with `code` and sent the close frame; nothing the client sends
 * from now on is served. A forced close terminates the socket when `terminateTimer` fires.
 */
export interface Closing {
  readonly kind: "closing";
  readonly code: CloseCode;
  readonly terminateTimer: NodeJS.Timeout | undefined;
}

/** The socket is gone. */
export interface Closed {
  readonly kind: "closed";
}

/**
 * The states of one socket, each carrying only the data valid in it (a room only once
 * joined, a `since` only while behind). Connection.transition is the only way between them.
 */
export type ConnectionState = AwaitingHello | Joining | Live | Behind | Closing | Closed;

/** The room a state belongs to: set in `live` and `behind` only. */
export function roomOf(state: ConnectionState): CanvasRoom | undefined {
  switch (state.kind) {
    case "live":
    case "behind":
      return state.room;
    case "awaiting-hello":
    case "joining":
    case "closing":
    case "closed":
      return undefined;
    default: {
      const _exhaustive: never = state;
      return _exhaustive;
    }
  }
}
