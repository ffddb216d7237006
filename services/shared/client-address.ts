import type { IncomingMessage } from "node:http";
import { forwardedClientAddress, ipKeyOf } from "./ip-key.js";

/**
 * The client's address key for a request (see ipKeyOf): the socket's peer, or, with `trustProxy`,
 * the last hop of X-Forwarded-For (the address the trusted proxy saw; earlier hops are whatever
 * the client claimed). A gateway charges its Places' per-network placement budget to this key too.
 */
export function clientIpKey(req: IncomingMessage, trustProxy: boolean): string {
  return ipKeyOf(forwardedClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trustProxy ? 1 : 0));
}
