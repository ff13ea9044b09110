// buildNetworkXml: the pure builder of berth's libvirt networks (NAT with DHCP, or OVS with VLANs).
import { toXml } from "./codec.ts";

export type NetworkSpec =
  | { kind: "nat"; name: string; bridge: string; subnet: string }
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

export function buildNetworkXml(spec: NetworkSpec): string {
  if (spec.kind === "nat") {
    const s = parseSubnet(spec.subnet);
    return toXml({
      network: {
        name: spec.name,
        forward: { "@mode": "nat" },
        bridge: { "@name": spec.bridge, "@stp": "on", "@delay": 0 },
        ip: {
          "@address": s.gateway,
          "@netmask": s.netmask,
          dhcp: { range: { "@start": s.dhcpStart, "@end": s.dhcpEnd } },
        },
      },
    });
  }
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
