// PVC's networks over berth's: bridged = an OVS VLAN (the VNI as tag) on [pvc] bridge, managed = a routed libvirt network named pvc-<vni>.
import { listNetworkRows, type NetworkRow } from "../../db/networks.ts";
import { AppError, BadRequest } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { createNetwork, type NetworkPatch, updateNetwork } from "../networks/index.ts";
import type { NetworkInput } from "../networks/plan.ts";
import { pvcLimitMatcher } from "./pvc-limit.ts";

export type PvcNetType = "bridged" | "managed";

/** The values of network add/modify as PVC named them (flag_dhcp4 by presence). */
export interface PvcNetworkValues {
  vni?: string | undefined;
  nettype?: string | undefined;
  domain?: string | undefined;
  ip4_network?: string | undefined;
  ip4_gateway?: string | undefined;
  ip6_network?: string | undefined;
  ip6_gateway?: string | undefined;
  flag_dhcp4: boolean;
  dhcp4_start?: string | undefined;
  dhcp4_end?: string | undefined;
}

/** PVC's network object (client-common getNetworkInformation): strings, "None" for unset, "True"/"False" flags. */
export interface PvcNetwork {
  vni: string;
  description: string;
  type: PvcNetType;
  domain: string;
  ip6: { network: string; gateway: string; dhcp_flag: string };
  ip4: { network: string; gateway: string; dhcp_flag: string; dhcp_start: string; dhcp_end: string };
}

/** A PVC failure with PVC's words, keeping berth's status and code. */
export function pvcFailure(e: unknown, message: string): AppError {
  if (e instanceof AppError) return new AppError(e.httpStatus, e.errorCode, message, { cause: e });
  return new AppError(500, "internal", message, { cause: e });
}

/** berth's name for PVC's network of this VNI: unique because VNIs are, and always a valid name. */
export const pvcNetworkName = (vni: number) => `pvc-${vni}`;

/** PVC's networks: berth networks that carry a VNI and a description. */
function pvcRows(core: Core): NetworkRow[] {
  return listNetworkRows(core.db).filter((r) => r.vni !== null && r.description !== null);
}

/** The network PVC names `ref` (its VNI or its description, exactly), or null. */
export function findPvcNetwork(core: Core, ref: string): NetworkRow | null {
  return pvcRows(core).find((r) => r.description === ref || String(r.vni) === ref) ?? null;
}

/** Like findPvcNetwork, but PVC's 510 when there is none. */
export function pvcNetworkOrFail(core: Core, ref: string): NetworkRow {
  const row = findPvcNetwork(core, ref);
  if (!row) throw new AppError(404, "not_found", `Could not find network "${ref}" in the cluster!`);
  return row;
}

const str = (v: string | number | null | undefined) => (v === null || v === undefined ? "None" : String(v));

export function pvcNetworkView(r: NetworkRow): PvcNetwork {
  const managed = r.kind === "nat";
  return {
    vni: String(r.vni),
    description: r.description ?? "",
    type: managed ? "managed" : "bridged",
    domain: str(r.domain),
    ip6: { network: str(r.subnet6), gateway: str(r.gateway6), dhcp_flag: r.subnet6 ? "True" : "False" },
    ip4: {
      network: str(managed ? r.subnet : null),
      gateway: str(managed ? r.gateway : null),
      dhcp_flag: managed && r.dhcp === 1 ? "True" : "False",
      dhcp_start: str(managed && r.dhcp === 1 ? r.dhcp_start : null),
      dhcp_end: str(managed && r.dhcp === 1 ? r.dhcp_end : null),
    },
  };
}

/** GET /network[?limit=] (PVC's fuzzy rule, against VNI and description; each network once). */
export function listPvcNetworks(core: Core, _caller: Caller | null, limit: string | undefined): PvcNetwork[] {
  const match = pvcLimitMatcher(limit);
  return pvcRows(core)
    .filter((r) => match(String(r.vni)) || match(r.description ?? ""))
    .sort((a, b) => (a.vni ?? 0) - (b.vni ?? 0))
    .map(pvcNetworkView);
}

/** GET /network/<net>: the one network with that VNI or description (exact), or none. */
export function showPvcNetwork(core: Core, _caller: Caller | null, ref: string): PvcNetwork[] {
  const row = findPvcNetwork(core, ref);
  return row ? [pvcNetworkView(row)] : [];
}

function parseVni(v: string): number {
  if (!/^\d{1,8}$/.test(v)) throw new BadRequest(`VNI "${v}" is not a number`);
  return Number(v);
}

/** berth's options for a managed network from PVC's values (checked again by core). */
function managedOptions(values: PvcNetworkValues, description: string, adding: boolean): NetworkPatch {
  if (adding && !values.ip4_network) throw new BadRequest("berth's managed networks need an ip4_network");
  if (values.ip4_network && !values.ip4_gateway) {
    throw new BadRequest("An IPv4 gateway (ip4_gateway) is required with ip4_network.");
  }
  if (values.flag_dhcp4 && (!values.dhcp4_start || !values.dhcp4_end)) {
    throw new BadRequest("DHCPv4 start and end addresses are required for a DHCPv4-enabled network.");
  }
  const patch: NetworkPatch = {};
  if (values.ip4_network) patch.subnet = values.ip4_network;
  if (values.ip4_gateway) patch.gateway = values.ip4_gateway;
  if (values.flag_dhcp4) {
    patch.dhcp = true;
    patch.dhcp_start = values.dhcp4_start;
    patch.dhcp_end = values.dhcp4_end;
  } else if (adding) patch.dhcp = false;
  if (values.domain) patch.domain = values.domain;
  else if (adding) patch.domain = `${description}.local`;
  if (values.ip6_network) patch.subnet6 = values.ip6_network;
  if (values.ip6_gateway) patch.gateway6 = values.ip6_gateway;
  return patch;
}

/** POST /network/<description>/add: vni and nettype were checked for presence by the route (520). */
export async function addPvcNetwork(
  core: Core,
  caller: Caller | null,
  description: string,
  values: PvcNetworkValues & { vni: string; nettype: PvcNetType },
): Promise<string> {
  const vni = parseVni(values.vni);
  const taken = pvcRows(core);
  if (taken.some((r) => r.vni === vni)) throw new BadRequest(`A network with VNI "${vni}" already exists!`);
  if (taken.some((r) => r.description === description)) {
    throw new BadRequest(`A network with description "${description}" already exists!`);
  }
  const name = pvcNetworkName(vni);
  let input: NetworkInput;
  if (values.nettype === "bridged") {
    // PVC: "All optional values are ignored with this type."
    input = { name, mode: "ovs", bridge: core.config.pvc.bridge, vlan: vni, vni, description };
  } else {
    const { subnet, ...options } = managedOptions(values, description, true);
    // PVC named a managed network's bridge vmbr<vni>: XML written for PVC finds it under that name.
    const bridge = `vmbr${vni}`;
    input = {
      name,
      mode: "nat",
      bridge,
      forward: "route",
      subnet: subnet ?? "",
      ...options,
      vni,
      description,
    };
  }
  await createNetwork(core, caller, input);
  return `Network '${description}' added successfully!`;
}

/** POST /network/<net>/modify: only the values given change; vni and nettype stay (berth would have to rebuild). */
export async function modifyPvcNetwork(
  core: Core,
  caller: Caller | null,
  ref: string,
  values: PvcNetworkValues,
): Promise<string> {
  const row = pvcNetworkOrFail(core, ref);
  const type: PvcNetType = row.kind === "nat" ? "managed" : "bridged";
  if (values.vni !== undefined && values.vni !== "" && parseVni(values.vni) !== row.vni) {
    throw new BadRequest(
      "changing a network's vni is not supported: add a new network, move the VMs, remove this one",
    );
  }
  if (values.nettype !== undefined && values.nettype !== "" && values.nettype !== type) {
    throw new BadRequest(
      "changing a network's nettype is not supported: add a new network, move the VMs, remove this one",
    );
  }
  if (type === "managed") {
    await updateNetwork(core, caller, row.name, managedOptions(values, row.description ?? "", false));
  }
  return `Network '${ref}' modified successfully!`;
}
