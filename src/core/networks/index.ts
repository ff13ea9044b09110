// Networks: berth's persistent, autostarted libvirt networks (OVS with VLANs, or NAT) and their state.
import { getNetworkRow, listNetworkRows } from "../../db/networks.ts";
import { NotFound } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { type NetworkRecord, type NetworkView, toRecord, viewOf } from "./records.ts";

export { createNetwork } from "./create.ts";
export { deleteNetwork } from "./delete.ts";
export { addDhcpHost, checkMac, listDhcpHosts, listLeases, removeDhcpHost } from "./dhcp-hosts.ts";
export type { NetworkInput } from "./plan.ts";
export type { NetworkRecord, NetworkView } from "./records.ts";
export { type NetworkPatch, updateNetwork } from "./update.ts";

/** The network named exactly `name`, or NotFound. */
export function findNetwork(core: Core, name: string): NetworkRecord {
  const row = getNetworkRow(core.db, name);
  if (!row) throw new NotFound(`network ${name} does not exist`);
  return toRecord(row);
}

/** The catalogue of networks: anyone may read it (nothing in it is secret). */
export async function listNetworks(core: Core, _caller: Caller | null): Promise<NetworkView[]> {
  const rows = listNetworkRows(core.db);
  const state = new Map((await core.hv.call("network.list", {})).map((n) => [n.name, n]));
  return rows.map((r) => viewOf(toRecord(r), state.get(r.name)));
}

export async function showNetwork(core: Core, _caller: Caller | null, name: string): Promise<NetworkView> {
  const rec = findNetwork(core, name);
  const state = (await core.hv.call("network.list", {})).find((n) => n.name === name);
  return viewOf(rec, state);
}
