import type { IncomingMessage } from "node:http";
import { forwardedClientAddress, ipKeyOf } from "../../shared/ip-key.js";

/** Who is behind a socket, for placement budgets: both keys travel with every Place to the canvas service. */
export interface ClientIdentity {
  /** The person's user id; empty until sessions exist, and then the connection's own id is used instead. */
  userId: string;
  /** The client's network key (ipKeyOf of its address). */
  ipKey: string;
}

/** How a gateway reads a client's identity from its upgrade request. */
export interface ClientIdentityOptions {
  /**
   * TEST ONLY (TRUST_TEST_USER_HEADER=true): take the user id from the `x-test-user` header, so an
   * e2e test can give many sockets one person. Anyone could claim any id with it; signed sessions
   * replace it.
   */
  trustTestUserHeader: boolean;
  /**
   * Proxies in front of the gateway that append to X-Forwarded-For (FORWARDED_FOR_HOPS, default 0):
   * the client is the entry that many places from the right; 0 uses the socket's peer address.
   */
  forwardedForHops: number;
}

/** The test-only header naming a user (see ClientIdentityOptions.trustTestUserHeader). */
export const TEST_USER_HEADER = "x-test-user";

/** Reads the identity of the client behind an upgrade request. */
export function clientIdentity(req: IncomingMessage, options: ClientIdentityOptions): ClientIdentity {
  const address = forwardedClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], options.forwardedForHops);
  const testUser = options.trustTestUserHeader ? req.headers[TEST_USER_HEADER] : undefined;
  return { userId: typeof testUser === "string" ? testUser.slice(0, 128) : "", ipKey: ipKeyOf(address) };
}
