/** Limits of the protocol that both ends check: the server refuses beyond them, the client never sends beyond them. */

/** The most pixels one SetPixels call may carry. */
export const MAX_PIXELS_PER_CALL = 10_000;
/** The most pixels one WebSocket Place may carry. */
export const MAX_PIXELS_PER_PLACE = 1_000;
/** Largest colour value (0xRRGGBB). */
export const MAX_COLOR = 0xffffff;
/** Longest display name, in characters. */
export const MAX_NAME_LENGTH = 32;
/** Largest uint32: client_seq wraps below it, and no Place value may exceed it. */
export const UINT32_MAX = 0xffffffff;
