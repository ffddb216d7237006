import { isIPv4, isIPv6 } from "node:net";
import type { IncomingMessage } from "node:http";

/**
 * The key per-address limits count under: an IPv4 address as is, an IPv6 address as its /64
 * prefix (one subscriber usually gets a whole /64, so counting single addresses would be no limit).
 * IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function ipKeyOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address || "unknown";
  const [head = "", tail = ""] = address.split("%")[0]!.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::") ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/**
 * The client's address key for a request: the socket's peer, or, with `trustProxy`, the last hop of
 * X-Forwarded-For (the address the trusted proxy saw; earlier hops are whatever the client claimed).
 */
export function clientIpKey(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",").map((s) => s.trim()).filter(Boolean);
    const last = hops.at(-1);
    if (last !== undefined) return ipKeyOf(last);
  }
  return ipKeyOf(req.socket.remoteAddress ?? "");
}
