// buildNetworkXml: the pure builder of berth's libvirt networks (NAT with DHCP, or OVS with VLANs).
import { toXml } from "./codec.ts";

/** A static DHCP reservation: the guest with this MAC always gets this IPv4 address. */
export interface DhcpHost {
  mac: string;
  ip: string;
  hostname?: string | undefined;
}

/** A libvirt-managed network (dnsmasq serves DHCP and DNS); only name, bridge and subnet are needed. */
export interface NatSpec {
  kind: "nat";
  name: string;
  /** Given when redefining: libvirt refuses a new definition of a name under another uuid. */
  uuid?: string;
  bridge: string;
  subnet: string;
  /** nat (default) or route: routed without address translation. */
  forward?: "nat" | "route";
  /** Default: the subnet's first host. */
  gateway?: string;
  /** Default true. */
  dhcp?: boolean;
  /** Default: the host after the gateway to the last host. */
  dhcpStart?: string;
  dhcpEnd?: string;
  domain?: string;
  /** An IPv6 CIDR ("fd00:1::/64") and the host's address in it. */
  subnet6?: string;
  gateway6?: string;
  hosts?: DhcpHost[];
}

export type NetworkSpec =
  | NatSpec
  | { kind: "ovs"; name: string; bridge: string; vlan?: number; trunk?: number[] };

export interface Ipv4Subnet {
  /** The network address: the CIDR's address with the host bits cleared. */
  network: string;
  gateway: string;
  netmask: string;
  dhcpStart: string;
  dhcpEnd: string;
  prefix: number;
}

const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** "192.168.10.0/24" → gateway .1, DHCP .2 to the last host; prefixes /8 to /29. */
export function parseSubnet(cidr: string): Ipv4Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(m?.[5]);
  if (!m || octets.some((o) => o > 255) || prefix < 8 || prefix > 29) {
    throw new RangeError(`subnet ${JSON.stringify(cidr)} is not an IPv4 CIDR between /8 and /29`);
  }
  const size = 2 ** (32 - prefix);
  const base = toInt(octets.join(".")) - (toInt(octets.join(".")) % size);
  return {
    network: toIp(base),
    gateway: toIp(base + 1),
    netmask: toIp(2 ** 32 - size),
    dhcpStart: toIp(base + 2),
    dhcpEnd: toIp(base + size - 2),
    prefix,
  };
}

const hostNode = (h: DhcpHost) => ({
  "@mac": h.mac,
  "@ip": h.ip,
  ...(h.hostname ? { "@name": h.hostname } : {}),
});

/** The <host> element virNetworkUpdate adds to or deletes from a network's DHCP section. */
export function buildDhcpHostXml(h: DhcpHost): string {
  return toXml({ host: hostNode(h) }).trim();
}

function natXml(spec: NatSpec): string {
  const s = parseSubnet(spec.subnet);
  const dhcpOn = spec.dhcp ?? true;
  const hosts = (spec.hosts ?? []).map(hostNode);
  const dhcp: Record<string, unknown> = {};
  if (dhcpOn) dhcp.range = { "@start": spec.dhcpStart ?? s.dhcpStart, "@end": spec.dhcpEnd ?? s.dhcpEnd };
  if (hosts.length > 0) dhcp.host = hosts;
  const ips: Record<string, unknown>[] = [
    {
      "@address": spec.gateway ?? s.gateway,
      "@netmask": s.netmask,
      ...(Object.keys(dhcp).length > 0 ? { dhcp } : {}),
    },
  ];
  if (spec.subnet6) {
    const [, prefix] = spec.subnet6.split("/");
    ips.push({ "@family": "ipv6", "@address": spec.gateway6 ?? "", "@prefix": Number(prefix) });
  }
  return toXml({
    network: {
      name: spec.name,
      ...(spec.uuid ? { uuid: spec.uuid } : {}),
      forward: { "@mode": spec.forward ?? "nat" },
      bridge: { "@name": spec.bridge, "@stp": "on", "@delay": 0 },
      ...(spec.domain ? { domain: { "@name": spec.domain, "@localOnly": "yes" } } : {}),
      ip: ips.length === 1 ? ips[0] : ips,
    },
  });
}

export function buildNetworkXml(spec: NetworkSpec): string {
  if (spec.kind === "nat") return natXml(spec);
  const network: Record<string, unknown> = {
    name: spec.name,
    forward: { "@mode": "bridge" },
    bridge: { "@name": spec.bridge },
    virtualport: { "@type": "openvswitch" },
  };
  if (spec.trunk?.length) network.vlan = { "@trunk": "yes", tag: spec.trunk.map((id) => ({ "@id": id })) };
  else if (spec.vlan !== undefined) network.vlan = { tag: { "@id": spec.vlan } };
  return toXml({ network });
}
