// The libvirt definition of a berth network: its record (and DHCP reservations) as a builder spec.
import type { NetworkHostRow } from "../../db/network-hosts.ts";
import type { NetworkSpec } from "../../xml/network.ts";
import type { NetworkRecord } from "./records.ts";

type SpecSource = Pick<NetworkRecord, "name" | "kind" | "bridge" | "vlan" | "trunk" | "subnet" | "forward"> &
  Pick<NetworkRecord, "gateway" | "dhcp" | "dhcp_start" | "dhcp_end" | "domain" | "subnet6" | "gateway6">;

const opt = <K extends string, V>(key: K, v: V | null) => (v === null ? {} : ({ [key]: v } as Record<K, V>));

export function specOf(rec: SpecSource, hosts: readonly NetworkHostRow[] = []): NetworkSpec {
  if (rec.kind === "nat") {
    return {
      kind: "nat",
      name: rec.name,
      bridge: rec.bridge,
      subnet: rec.subnet ?? "",
      forward: rec.forward,
      dhcp: rec.dhcp,
      ...opt("gateway", rec.gateway),
      ...opt("dhcpStart", rec.dhcp_start),
      ...opt("dhcpEnd", rec.dhcp_end),
      ...opt("domain", rec.domain),
      ...opt("subnet6", rec.subnet6),
      ...opt("gateway6", rec.gateway6),
      ...(hosts.length > 0
        ? { hosts: hosts.map((h) => ({ mac: h.mac, ip: h.ip, hostname: h.hostname ?? undefined })) }
        : {}),
    };
  }
  return {
    kind: "ovs",
    name: rec.name,
    bridge: rec.bridge,
    ...(rec.vlan !== null ? { vlan: rec.vlan } : {}),
    ...(rec.trunk !== null ? { trunk: rec.trunk } : {}),
  };
}
