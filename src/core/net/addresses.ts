// Which IP addresses berth may fetch a user's URL from: public unicast only, unless private networks are allowed.
import { BlockList, isIP } from "node:net";

/** Decides whether berth may connect to `ip` (a literal, v4 or v6, as a resolver returns it). */
export type AddressPolicy = (ip: string) => boolean;

/** IANA special-purpose ranges: nothing a public download server lives in. */
const V4: [string, number][] = [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the host itself
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata services
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 broadcast
];
const V6: [string, number][] = [
  ["::", 96], // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d
  ["100::", 64], // discard
  ["2001:db8::", 32],
  ["64:ff9b:1::", 48], // local-use NAT64
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
];
const blocked = new BlockList();
for (const [net, bits] of V4) blocked.addSubnet(net, bits, "ipv4");
// BlockList also matches IPv4-mapped forms (::ffff:127.0.0.1) against the IPv4 rules.
for (const [net, bits] of V6) blocked.addSubnet(net, bits, "ipv6");

// These carry an IPv4 address (NAT64: the last 32 bits; 6to4: bits 16..47), judged as that address.
const nat64 = new BlockList();
nat64.addSubnet("64:ff9b::", 96, "ipv6");
const sixToFour = new BlockList();
sixToFour.addSubnet("2002::", 16, "ipv6");

/** The 8 groups of an IPv6 literal as numbers (expands "::"; a trailing dotted quad becomes 2 groups). */
function groups(ip: string): number[] {
  let s = ip;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = s.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => Number.parseInt(g, 16));
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** True for a public unicast address; false for private, loopback, link-local, multicast and the like. */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !blocked.check(ip, "ipv4");
  if (family !== 6) return false;
  if (blocked.check(ip, "ipv6")) return false;
  const g = groups(ip);
  if (nat64.check(ip, "ipv6")) return isPublicAddress(v4(g[6] ?? 0, g[7] ?? 0));
  if (sixToFour.check(ip, "ipv6")) return isPublicAddress(v4(g[1] ?? 0, g[2] ?? 0));
  return true;
}

/** The policy `[images] allow_private_networks` asks for. */
export function addressPolicy(allowPrivate: boolean): AddressPolicy {
  return allowPrivate ? () => true : isPublicAddress;
}
