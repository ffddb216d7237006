import { isIPv4, isIPv6 } from "node:net";

/**
 * The network key of a client address for the per-network placement budget: an IPv4 address as it
 * is (IPv4-mapped IPv6 included), an IPv6 address cut to its /64 (one household or host usually
 * holds a whole /64, so per-address budgets would be free to multiply). Unknown input: "unknown".
 */
export function ipKeyOf(address: string | undefined): string {
  if (address === undefined || address === "") return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  const bare = address.split("%")[0]!;
  if (!isIPv6(bare)) return "unknown";
  const [head, tail] = bare.includes("::") ? bare.split("::") : [bare, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}

/**
 * The client's address behind `hops` trusted proxies that each append to X-Forwarded-For: the
 * entry `hops` places from the right (entries further left were written by the client and prove
 * nothing). With 0 hops, or a header too short, the socket's peer address.
 */
export function forwardedClientAddress(peerAddress: string | undefined, forwardedFor: string | string[] | undefined, hops: number): string | undefined {
  if (hops <= 0) return peerAddress;
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? "")).split(",").map((s) => s.trim()).filter(Boolean);
  return entries[entries.length - hops] ?? peerAddress;
}
