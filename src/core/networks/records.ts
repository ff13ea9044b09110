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
