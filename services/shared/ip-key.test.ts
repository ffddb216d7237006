import { describe, expect, it } from "vitest";
import { forwardedClientAddress, ipKeyOf } from "./ip-key.js";

describe("ipKeyOf", () => {
  it("keeps IPv4 addresses, IPv4-mapped ones included", () => {
    expect([ipKeyOf("203.0.113.9"), ipKeyOf("::ffff:203.0.113.9")]).toEqual(["203.0.113.9", "203.0.113.9"]);
  });

  it("cuts IPv6 addresses to their /64, however they are abbreviated", () => {
    expect(ipKeyOf("2001:db8:0:1::5")).toBe("2001:db8:0:1::/64");
    expect(ipKeyOf("2001:0db8:0000:0001:ffff:0:0:1")).toBe("2001:db8:0:1::/64");
    expect(ipKeyOf("::1")).toBe("0:0:0:0::/64");
    expect(ipKeyOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("answers unknown for a missing or unparsable address", () => {
    expect([ipKeyOf(undefined), ipKeyOf(""), ipKeyOf("nonsense")]).toEqual(["unknown", "unknown", "unknown"]);
  });
});

describe("forwardedClientAddress", () => {
  it("takes the entry as many places from the right as there are trusted proxies, else the peer", () => {
    expect(forwardedClientAddress("10.0.0.2", "6.6.6.6, 203.0.113.5", 1)).toBe("203.0.113.5");
    expect(forwardedClientAddress("10.0.0.2", ["6.6.6.6", "203.0.113.5, 10.0.0.9"], 2)).toBe("203.0.113.5");
    expect(forwardedClientAddress("10.0.0.2", "6.6.6.6", 0)).toBe("10.0.0.2");
    expect(forwardedClientAddress("10.0.0.2", undefined, 1)).toBe("10.0.0.2");
  });
});
