import { createContextKey } from "@connectrpc/connect";

/**
 * The network address of a Connect call's peer, set by the canvas server from the socket (see
 * canvas-server.ts) and read where a request names no author: its placement budget is then the
 * caller's anonymous one. Empty when unknown (an in-process router transport).
 */
export const CALLER_ADDRESS = createContextKey<string>("", { description: "the peer address of the call" });
