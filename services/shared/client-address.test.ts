import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientIpKey, ipKeyOf } from "./client-address.js";

const request = (remoteAddress: string, forwardedFor?: string) => ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor } }) as unknown as IncomingMessage;

describe("client address keys", () => {
  it("keeps an IPv4 address, also when IPv4-mapped", () => {
    expect(ipKeyOf("203.0.113.7")).toBe("203.0.113.7");
    expect(ipKeyOf("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("reduces an IPv6 address to its /64, however it is abbreviated", () => {
    expect(ipKeyOf("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(ipKeyOf("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(ipKeyOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(ipKeyOf("::1")).toBe("0:0:0:0::/64");
  });

  it("uses the socket's peer unless the proxy is trusted, then X-Forwarded-For's last hop", () => {
    expect(clientIpKey(request("10.0.0.5", "198.51.100.1, 192.0.2.9"), false)).toBe("10.0.0.5");
    expect(clientIpKey(request("10.0.0.5", "198.51.100.1, 192.0.2.9"), true)).toBe("192.0.2.9");
    expect(clientIpKey(request("10.0.0.5"), true)).toBe("10.0.0.5");
  });
});
