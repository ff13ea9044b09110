// The network record berth keeps, and the view the API shows (the record plus libvirt's state).
import type { NetworkRow } from "../../db/networks.ts";
import type { NetworkSummary } from "../hypervisor/ops/network-ops.ts";

export interface NetworkRecord {
  name: string;
  kind: "ovs" | "nat";
  bridge: string;
  vlan: number | null;
  trunk: number[] | null;
  subnet: string | null;
  created_at: string;
  /** nat networks: nat, or route (no address translation). */
  forward: "nat" | "route";
  /** nat networks: the host's address; null = the subnet's first host. */
  gateway: string | null;
  dhcp: boolean;
  /** null = from the host after the gateway to the subnet's last host. */
  dhcp_start: string | null;
  dhcp_end: string | null;
  domain: string | null;
  subnet6: string | null;
  gateway6: string | null;
  /** A front's identifier (PVC's VNI): recorded and shown; berth builds no VXLAN from it. */
  vni: number | null;
  description: string | null;
}

/** A network as the API shows it: the record and libvirt's view of it. */
export interface NetworkView extends NetworkRecord {
  /** False when the libvirt network has vanished (someone undefined it behind berth's back). */
  defined: boolean;
  active: boolean;
  autostart: boolean;
  persistent: boolean;
}

export function toRecord(r: NetworkRow): NetworkRecord {
  return {
    name: r.name,
    kind: r.kind,
    bridge: r.bridge,
    vlan: r.vlan,
    trunk: r.trunk === null ? null : (JSON.parse(r.trunk) as number[]),
    subnet: r.subnet,
    created_at: r.created_at,
    forward: r.forward,
    gateway: r.gateway,
    dhcp: r.dhcp === 1,
    dhcp_start: r.dhcp_start,
    dhcp_end: r.dhcp_end,
    domain: r.domain,
    subnet6: r.subnet6,
    gateway6: r.gateway6,
    vni: r.vni,
    description: r.description,
  };
}

export function viewOf(rec: NetworkRecord, state: NetworkSummary | undefined): NetworkView {
  return {
    ...rec,
    defined: state !== undefined,
    active: state?.active ?? false,
    autostart: state?.autostart ?? false,
    persistent: state?.persistent ?? false,
  };
}
