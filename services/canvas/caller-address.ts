import { createContextKey } from "@connectrpc/connect";

/**
 * The network address of a Connect call's client: the socket's peer, or the X-Forwarded-For entry
 * behind FORWARDED_FOR_HOPS trusted proxies (set in canvas-server.ts). A request that names no
 * author is charged to this caller's anonymous placement budget. Empty when unknown (an in-process
 * router transport).
 */
export const CALLER_ADDRESS = createContextKey<string>("", { description: "the peer address of the call" });
