// Static DHCP reservations of libvirt-managed networks: recorded, and written into libvirt's <dhcp> (live and config).
import { isIPv4 } from "node:net";
import {
  deleteNetworkHost,
  getNetworkHost,
  insertNetworkHost,
  listNetworkHosts,
  type NetworkHostRow,
} from "../../db/network-hosts.ts";
import { BadRequest, Conflict, NotFound } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import type { DhcpLease } from "../../ffi/index.ts";
import { HOSTNAME } from "../../patterns.ts";
import { buildDhcpHostXml, parseSubnet } from "../../xml/network.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { Reverter } from "../reverter.ts";
import { isLibvirt } from "../storage-pool.ts";
import { findNetwork } from "./index.ts";
import type { NetworkRecord } from "./records.ts";
import { serialize } from "./serial.ts";

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const HOSTNAME_RE = new RegExp(HOSTNAME);
const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);

/** A MAC as berth records it (lowercase), or a 400. */
export function checkMac(mac: string): string {
  const m = mac.toLowerCase();
  if (!MAC_RE.test(m))
    throw new BadRequest(`MAC address ${JSON.stringify(mac)} is not valid: use six ':'-separated hex pairs`);
  return m;
}

function managed(core: Core, network: string): NetworkRecord {
  const rec = findNetwork(core, network);
  if (rec.kind !== "nat" || rec.subnet === null) {
    throw new Conflict(`network ${network} is not managed by libvirt: its DHCP is not berth's`);
  }
  return rec;
}

/** The address must be a host of the network's subnet other than the gateway. */
function checkIp(rec: NetworkRecord, ip: string): string {
  if (!isIPv4(ip)) throw new BadRequest(`${JSON.stringify(ip)} is not an IPv4 address`);
  const s = parseSubnet(rec.subnet ?? "");
  const base = toInt(s.network);
  const n = toInt(ip);
  if (n <= base || n >= base + 2 ** (32 - s.prefix) - 1) {
    throw new BadRequest(`${ip} is not a host address of network ${rec.name} (${rec.subnet})`);
  }
  if (ip === (rec.gateway ?? s.gateway)) throw new BadRequest(`${ip} is the gateway of network ${rec.name}`);
  return ip;
}

/** Reservations and leases name every guest's address on the network: admins only. */
export function listDhcpHosts(core: Core, caller: Caller | null, network: string): NetworkHostRow[] {
  requireAdmin(core, caller, "see DHCP reservations");
  return listNetworkHosts(core.db, managed(core, network).name);
}

export interface DhcpHostInput {
  mac: string;
  ip: string;
  hostname?: string | undefined;
}

export function addDhcpHost(
  core: Core,
  caller: Caller | null,
  network: string,
  input: DhcpHostInput,
): Promise<NetworkHostRow> {
  requireAdmin(core, caller, "reserve DHCP addresses");
  return serialize(core.db, async () => {
    const rec = managed(core, network);
    const mac = checkMac(input.mac);
    const ip = checkIp(rec, input.ip);
    const hostname = input.hostname || null;
    if (hostname !== null && (hostname.length > 63 || !HOSTNAME_RE.test(hostname))) {
      throw new BadRequest(`hostname ${JSON.stringify(hostname)} is not a host name`);
    }
    const hosts = listNetworkHosts(core.db, rec.name);
    if (hosts.some((h) => h.mac === mac))
      throw new Conflict(`a reservation for ${mac} exists on network ${rec.name}`);
    const taken = hosts.find((h) => h.ip === ip);
    if (taken) throw new Conflict(`${ip} is reserved for ${taken.mac} on network ${rec.name}`);
    const row: NetworkHostRow = { network: rec.name, mac, ip, hostname };
    const xml = buildDhcpHostXml({ mac, ip, hostname: hostname ?? undefined });
    await new Reverter().run(async (r) => {
      await core.hv.call("network.dhcpHost", { name: rec.name, op: "add", xml });
      r.add(`drop reservation ${mac} from network ${rec.name}`, () =>
        core.hv.call("network.dhcpHost", { name: rec.name, op: "delete", xml }),
      );
      insertNetworkHost(core.db, row);
    });
    core.events.publish("network.updated", `network/${rec.name}`, { change: "dhcp reservation added" });
    return row;
  });
}

export function removeDhcpHost(
  core: Core,
  caller: Caller | null,
  network: string,
  mac: string,
): Promise<void> {
  requireAdmin(core, caller, "remove DHCP reservations");
  return serialize(core.db, async () => {
    const rec = managed(core, network);
    const m = checkMac(mac);
    const row = getNetworkHost(core.db, rec.name, m);
    if (!row) throw new NotFound(`no reservation for ${m} on network ${rec.name}`);
    const xml = buildDhcpHostXml({ mac: row.mac, ip: row.ip, hostname: row.hostname ?? undefined });
    await core.hv.call("network.dhcpHost", { name: rec.name, op: "delete", xml });
    deleteNetworkHost(core.db, rec.name, m);
    core.events.publish("network.updated", `network/${rec.name}`, { change: "dhcp reservation removed" });
  });
}

/** libvirt's active leases of a managed network (none where the driver keeps none, e.g. the test driver). */
export async function listLeases(core: Core, caller: Caller | null, network: string): Promise<DhcpLease[]> {
  requireAdmin(core, caller, "see DHCP leases");
  const rec = managed(core, network);
  try {
    return await core.hv.call("network.leases", { name: rec.name });
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_SUPPORT)) return [];
    throw e;
  }
}
