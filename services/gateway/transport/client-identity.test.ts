import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientIdentity } from "./client-identity.js";

function request(remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
}

describe("clientIdentity", () => {
  it("keys the network by the socket's address and ignores x-test-user unless trusted", () => {
    expect(clientIdentity(request("::ffff:198.51.100.7", { "x-test-user": "mallory" }), { trustTestUserHeader: false, forwardedForHops: 0 })).toEqual({
      userId: "",
      ipKey: "198.51.100.7",
    });
  });

  it("takes the user id from x-test-user when TRUST_TEST_USER_HEADER is on", () => {
    expect(clientIdentity(request("127.0.0.1", { "x-test-user": "alice" }), { trustTestUserHeader: true, forwardedForHops: 0 }).userId).toBe("alice");
  });

  it("takes the client from X-Forwarded-For as many entries from the right as there are trusted proxies", () => {
    const req = request("10.0.0.2", { "x-forwarded-for": "6.6.6.6, 203.0.113.5, 10.0.0.9" });
    expect(clientIdentity(req, { trustTestUserHeader: false, forwardedForHops: 2 }).ipKey).toBe("203.0.113.5");
    expect(clientIdentity(request("10.0.0.2"), { trustTestUserHeader: false, forwardedForHops: 1 }).ipKey).toBe("10.0.0.2");
  });
});
