// Changing a network's options: re-checked, redefined in libvirt (with its reservations) and restarted when running.
import { isIPv4 } from "node:net";
import { listNetworkHosts } from "../../db/network-hosts.ts";
import { getNetworkRow, listNetworkRows, updateNetworkRow } from "../../db/networks.ts";
import { BadRequest, Conflict, NotFound } from "../../errors.ts";
import { buildNetworkXml, parseSubnet } from "../../xml/network.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { withContext } from "./create.ts";
import { type NetworkOptionsInput, planOptions } from "./options.ts";
import { normaliseSubnet, subnetsOverlap } from "./plan.ts";
import { type NetworkView, toRecord, viewOf } from "./records.ts";
import { serialize } from "./serial.ts";
import { specOf } from "./spec.ts";

/** What may change: the options, and a nat network's subnet. Absent keys keep their value. */
export interface NetworkPatch extends NetworkOptionsInput {
  subnet?: string;
}

async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw withContext(what, e);
  }
}

const given = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);

function hostsFit(subnet: string, ips: string[]): void {
  const s = parseSubnet(subnet);
  const base = toInt(s.network);
  const bad = ips.filter(
    (ip) => !isIPv4(ip) || toInt(ip) <= base || toInt(ip) >= base + 2 ** (32 - s.prefix) - 1,
  );
  if (bad.length > 0) throw new BadRequest(`reserved addresses ${bad.join(", ")} are outside ${subnet}`);
}

export function updateNetwork(
  core: Core,
  caller: Caller | null,
  name: string,
  patch: NetworkPatch,
): Promise<NetworkView> {
  requireAdmin(core, caller, "change networks");
  return serialize(core.db, async () => {
    const row = getNetworkRow(core.db, name);
    if (!row) throw new NotFound(`network ${name} does not exist`);
    if (patch.subnet !== undefined && row.kind !== "nat")
      throw new BadRequest("subnet applies to nat networks, not ovs ones");
    const subnet = patch.subnet === undefined ? row.subnet : normaliseSubnet(patch.subnet);
    const subnetMoved = subnet !== row.subnet;
    const current: NetworkOptionsInput = {
      forward: row.kind === "nat" ? row.forward : undefined,
      // A new subnet drops the old one's gateway and range unless they are given again.
      gateway: subnetMoved ? undefined : given(row.gateway),
      dhcp: row.kind === "nat" ? row.dhcp === 1 : undefined,
      dhcp_start: subnetMoved ? undefined : given(row.dhcp_start),
      dhcp_end: subnetMoved ? undefined : given(row.dhcp_end),
      domain: given(row.domain),
      subnet6: given(row.subnet6),
      gateway6: given(row.gateway6),
      vni: given(row.vni),
      description: given(row.description),
    };
    const merged: NetworkOptionsInput = { ...current };
    for (const [k, v] of Object.entries(patch))
      if (k !== "subnet" && v !== undefined) (merged as Record<string, unknown>)[k] = v;
    if (patch.dhcp === false && patch.dhcp_start === undefined) {
      merged.dhcp_start = undefined;
      merged.dhcp_end = undefined;
    }
    if (patch.subnet6 !== undefined && patch.gateway6 === undefined) merged.gateway6 = undefined;
    const options = planOptions(row.kind, subnet, merged);
    for (const other of listNetworkRows(core.db)) {
      if (other.name === name) continue;
      if (options.vni !== null && other.vni === options.vni)
        throw new Conflict(`network ${other.name} already has vni ${options.vni}`);
      if (options.description !== null && other.description === options.description) {
        throw new Conflict(`network ${other.name} already has description ${options.description}`);
      }
      if (subnetMoved && subnet && other.subnet && subnetsOverlap(subnet, other.subnet)) {
        throw new Conflict(`subnet ${subnet} overlaps ${other.subnet} of network ${other.name}`);
      }
    }
    const hosts = listNetworkHosts(core.db, name);
    if (subnet !== null && row.kind === "nat")
      hostsFit(
        subnet,
        hosts.map((h) => h.ip),
      );
    const next = { ...row, ...options, subnet };
    const rec = toRecord(next);
    const state = (await core.hv.call("network.list", {})).find((n) => n.name === name);
    const uuid = /<uuid>([0-9a-f-]{36})<\/uuid>/.exec(await core.hv.call("network.xml", { name }))?.[1];
    const spec = specOf(rec, hosts);
    const xml = buildNetworkXml(uuid && spec.kind === "nat" ? { ...spec, uuid } : spec);
    // Stopped first, the network takes the new definition as it is defined; its guests' links drop meanwhile.
    if (state?.active)
      await step(`network ${name}: stopping`, () => core.hv.call("network.destroy", { name }));
    try {
      await step(`network ${name}: redefining`, () => core.hv.call("network.define", { xml }));
    } finally {
      if (state?.active)
        await step(`network ${name}: starting`, () => core.hv.call("network.create", { name }));
    }
    updateNetworkRow(core.db, name, { ...options, subnet, vlan: row.vlan });
    core.events.publish("network.updated", `network/${name}`, { kind: row.kind });
    const after = (await core.hv.call("network.list", {})).find((n) => n.name === name);
    return viewOf(rec, after);
  });
}
