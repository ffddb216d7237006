import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientIpKey } from "./client-address.js";

const request = (remoteAddress: string, forwardedFor?: string) => ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor } }) as unknown as IncomingMessage;

describe("client address key", () => {
  it("uses the socket's peer unless the proxy is trusted, then X-Forwarded-For's last hop", () => {
    expect(clientIpKey(request("10.0.0.5", "198.51.100.1, 192.0.2.9"), false)).toBe("10.0.0.5");
    expect(clientIpKey(request("10.0.0.5", "198.51.100.1, 192.0.2.9"), true)).toBe("192.0.2.9");
    expect(clientIpKey(request("10.0.0.5"), true)).toBe("10.0.0.5");
  });
});
