// A libvirt-managed network's options (forward mode, gateway, DHCP range, domain, IPv6) and a front's vni and description, checked.
import { isIPv4, isIPv6 } from "node:net";
import type { NetworkOptions } from "../../db/networks.ts";
import { BadRequest } from "../../errors.ts";
import { HOSTNAME, HOSTNAME_MAX } from "../../patterns.ts";
import { parseSubnet } from "../../xml/network.ts";

/** What a caller may set beyond name, mode, bridge, VLANs and subnet. */
export interface NetworkOptionsInput {
  /** nat networks: nat (default) or route (no address translation). */
  forward?: "nat" | "route";
  gateway?: string;
  dhcp?: boolean;
  dhcp_start?: string;
  dhcp_end?: string;
  domain?: string;
  subnet6?: string;
  gateway6?: string;
  vni?: number;
  description?: string;
}

const NAT_ONLY = [
  "forward",
  "gateway",
  "dhcp",
  "dhcp_start",
  "dhcp_end",
  "domain",
  "subnet6",
  "gateway6",
] as const;
const HOSTNAME_RE = new RegExp(HOSTNAME);
/** A label people read: 1-128 visible characters, no whitespace (PVC's descriptions are whitespace-free). */
const DESCRIPTION_RE = /^[\x21-\x7e]{1,128}$/;
export const VNI_MAX = 16_777_215;

const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);

/** An IPv4 host address of `subnet` (neither its network nor its broadcast address). */
function checkHostIn(subnet: string, ip: string, what: string): string {
  if (!isIPv4(ip)) throw new BadRequest(`${what} ${JSON.stringify(ip)} is not an IPv4 address`);
  const s = parseSubnet(subnet);
  const base = toInt(s.network);
  const size = 2 ** (32 - s.prefix);
  const n = toInt(ip);
  if (n <= base || n >= base + size - 1)
    throw new BadRequest(`${what} ${ip} is not a host address of ${subnet}`);
  return ip;
}

/** "fd00:1::/64" as given, checked; its default gateway is the network part followed by 1 (PVC's rule). */
function checkSubnet6(cidr: string): { subnet6: string; defaultGateway: string } {
  const [addr = "", prefix = "", ...rest] = cidr.split("/");
  const p = Number(prefix);
  if (rest.length > 0 || !isIPv6(addr) || !/^\d{1,3}$/.test(prefix) || p < 8 || p > 128) {
    throw new BadRequest(`subnet6 ${JSON.stringify(cidr)} is not an IPv6 CIDR between /8 and /128`);
  }
  const gateway = `${addr}1`;
  return {
    subnet6: `${addr}/${p}`,
    defaultGateway: isIPv6(gateway) ? gateway : `${addr.replace(/:+$/, "")}::1`,
  };
}

/** Checks `input` for a network of `kind` on `subnet` into the columns berth records. */
export function planOptions(
  kind: "ovs" | "nat",
  subnet: string | null,
  input: NetworkOptionsInput,
): NetworkOptions {
  if (kind !== "nat") {
    const given = NAT_ONLY.filter((k) => input[k] !== undefined);
    if (given.length > 0) throw new BadRequest(`${given.join(", ")} apply to nat networks, not ovs ones`);
  }
  if (input.vni !== undefined && (!Number.isInteger(input.vni) || input.vni < 1 || input.vni > VNI_MAX)) {
    throw new BadRequest(`vni ${input.vni} is outside 1-${VNI_MAX}`);
  }
  if (input.description !== undefined && !DESCRIPTION_RE.test(input.description)) {
    throw new BadRequest("a description is 1-128 visible characters without whitespace");
  }
  if (input.domain !== undefined && (input.domain.length > HOSTNAME_MAX || !HOSTNAME_RE.test(input.domain))) {
    throw new BadRequest(`domain ${JSON.stringify(input.domain)} is not a DNS name`);
  }
  const dhcp = input.dhcp ?? true;
  if ((input.dhcp_start === undefined) !== (input.dhcp_end === undefined)) {
    throw new BadRequest("give both dhcp_start and dhcp_end, or neither");
  }
  if (!dhcp && input.dhcp_start !== undefined) throw new BadRequest("a DHCP range needs dhcp on");
  if (subnet !== null) {
    if (input.gateway !== undefined) checkHostIn(subnet, input.gateway, "gateway");
    if (input.dhcp_start !== undefined && input.dhcp_end !== undefined) {
      checkHostIn(subnet, input.dhcp_start, "dhcp_start");
      checkHostIn(subnet, input.dhcp_end, "dhcp_end");
      if (toInt(input.dhcp_start) > toInt(input.dhcp_end))
        throw new BadRequest("dhcp_start is after dhcp_end");
    }
  }
  let subnet6: string | null = null;
  let gateway6: string | null = null;
  if (input.subnet6 !== undefined) {
    const s6 = checkSubnet6(input.subnet6);
    subnet6 = s6.subnet6;
    gateway6 = input.gateway6 ?? s6.defaultGateway;
    if (!isIPv6(gateway6))
      throw new BadRequest(`gateway6 ${JSON.stringify(gateway6)} is not an IPv6 address`);
  } else if (input.gateway6 !== undefined) {
    throw new BadRequest("gateway6 needs subnet6");
  }
  return {
    forward: input.forward ?? "nat",
    gateway: input.gateway ?? null,
    dhcp: dhcp ? 1 : 0,
    dhcp_start: input.dhcp_start ?? null,
    dhcp_end: input.dhcp_end ?? null,
    domain: input.domain ?? null,
    subnet6,
    gateway6,
    vni: input.vni ?? null,
    description: input.description ?? null,
  };
}
