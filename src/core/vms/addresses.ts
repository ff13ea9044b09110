// A VM's IP addresses per NIC, from DHCP leases of berth's NAT networks, the guest agent and the host's ARP table.
import { nicsOf } from "../../db/vms.ts";
import { AppError, HypervisorUnavailable } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { log } from "../../log.ts";
import { assertVmSecrets, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import type { OpResult } from "../hypervisor/ops/index.ts";
import { isLibvirt } from "../storage-pool.ts";
import { domainState } from "./domain.ts";
import { findVmRow, networkInfo } from "./records.ts";

/** Where an address was seen, in the order berth trusts them. */
export const ADDRESS_SOURCES = ["lease", "agent", "arp"] as const;
export type AddressSource = (typeof ADDRESS_SOURCES)[number];

export interface NicAddress {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
  source: AddressSource;
}

export interface NicAddresses {
  network: string;
  mac: string;
  vlan: number | null;
  addresses: NicAddress[];
}

/** One address a source saw on a MAC. */
export interface Sighting extends NicAddress {
  mac: string;
}

interface NicRef {
  network: string;
  mac: string;
  vlan?: number | null;
}

/**
 * Pure: each NIC gets the addresses seen on its MAC (exact match, case-insensitive), each address once,
 * from the most trusted source that saw it (lease, then agent, then arp).
 */
export function assignAddresses(nics: NicRef[], sightings: Sighting[]): NicAddresses[] {
  const rank = (s: AddressSource) => ADDRESS_SOURCES.indexOf(s);
  const ordered = [...sightings].sort((a, b) => rank(a.source) - rank(b.source));
  return nics.map((nic) => {
    const mac = nic.mac.toLowerCase();
    const seen = new Set<string>();
    const addresses: NicAddress[] = [];
    for (const s of ordered) {
      const key = s.address.toLowerCase();
      if (s.mac.toLowerCase() !== mac || seen.has(key)) continue;
      seen.add(key);
      addresses.push({ address: s.address, prefix: s.prefix, family: s.family, source: s.source });
    }
    return { network: nic.network, mac: nic.mac, vlan: nic.vlan ?? null, addresses };
  });
}

/** libvirt's answers that mean "this source knows nothing about the guest now", not a failure. */
const NO_DATA: Record<AddressSource, number[]> = {
  // Network not running or vanished; drivers without leases (the test driver).
  lease: [ErrorCode.OPERATION_INVALID, ErrorCode.NO_NETWORK, ErrorCode.NO_SUPPORT],
  // No agent channel configured, agent not connected or not answering, guest not running.
  agent: [
    ErrorCode.ARGUMENT_UNSUPPORTED,
    ErrorCode.AGENT_UNRESPONSIVE,
    ErrorCode.AGENT_UNSYNCED,
    ErrorCode.OPERATION_INVALID,
    ErrorCode.NO_SUPPORT,
    ErrorCode.OPERATION_UNSUPPORTED,
  ],
  arp: [ErrorCode.OPERATION_INVALID, ErrorCode.NO_SUPPORT, ErrorCode.OPERATION_UNSUPPORTED],
};

const warned = new Set<string>();

function noData(e: unknown, source: AddressSource): boolean {
  if (NO_DATA[source].some((code) => isLibvirt(e, code))) return true;
  // libvirt 9.0 cannot parse the neighbour dump of newer kernels ("wrong nlmsg len"): ARP is best effort.
  if (source === "arp" && e instanceof AppError && e.errorCode === "hypervisor_error") {
    if (!warned.has(e.message)) {
      warned.add(e.message);
      log.warn("ARP address lookup failed; addresses come from leases and the agent only", {
        error: e.message,
      });
    }
    return true;
  }
  return false;
}

async function leaseSightings(core: Core, networks: string[]): Promise<Sighting[]> {
  const all = await Promise.all(
    networks.map(async (network) => {
      try {
        return await core.hv.call("network.leases", { name: network });
      } catch (e) {
        if (noData(e, "lease")) return [];
        throw e;
      }
    }),
  );
  return all.flat().map((l) => ({
    mac: l.mac,
    address: l.ipAddress,
    prefix: l.prefix,
    family: l.type,
    source: "lease" as const,
  }));
}

async function domainSightings(core: Core, vmName: string, source: "agent" | "arp"): Promise<Sighting[]> {
  let found: Awaited<OpResult<"domain.addresses">>;
  try {
    found = await core.hv.call("domain.addresses", { name: vmName, source });
  } catch (e) {
    if (noData(e, source)) return [];
    throw e;
  }
  return found.flatMap((iface) =>
    iface.addresses.map((a) => ({
      mac: iface.mac,
      address: a.address,
      prefix: a.prefix,
      family: a.type,
      source,
    })),
  );
}

/** Fetches each source at most once, only when asked. */
function sources(core: Core, vmName: string, nics: NicRef[]) {
  const kinds = networkInfo(core);
  const nat = [...new Set(nics.map((n) => n.network))].filter((n) => kinds.get(n)?.kind === "nat");
  // libvirt's test driver dereferences NULL (killing the process) in virDomainInterfaceAddresses for
  // a NIC whose network has no <ip>, such as an OVS network: it is not asked then.
  const crashes =
    core.config.hypervisor.uri.startsWith("test:") && nics.some((n) => kinds.get(n.network)?.kind !== "nat");
  const cache = new Map<AddressSource, Promise<Sighting[]>>();
  return (source: AddressSource): Promise<Sighting[]> => {
    let p = cache.get(source);
    if (!p) {
      if (source === "lease") p = leaseSightings(core, nat);
      else p = crashes ? Promise.resolve([]) : domainSightings(core, vmName, source);
      cache.set(source, p);
    }
    return p;
  };
}

const isOn = (state: string | null) => state !== null && state !== "shutoff" && state !== "crashed";

/** Per NIC, in NIC order: empty lists until something knows an address, and for a stopped VM. */
export async function vmAddresses(
  core: Core,
  caller: Caller | null,
  vmName: string,
): Promise<NicAddresses[]> {
  assertVmSecrets(core, caller, vmName);
  const vm = findVmRow(core, vmName);
  const networks = networkInfo(core);
  const nics = nicsOf(core.db, vm.id).map((n) => ({
    network: n.network,
    mac: n.mac,
    vlan: networks.get(n.network)?.vlan ?? null,
  }));
  if (nics.length === 0 || !isOn(await domainState(core, vmName))) return assignAddresses(nics, []);
  const get = sources(core, vmName, nics);
  const all = await Promise.all(ADDRESS_SOURCES.map(get));
  return assignAddresses(nics, all.flat());
}

/** What primaryIpv4 needs of a VM (the Vm resource has it). */
export interface AddressedVm {
  name: string;
  /** libvirt's state when the caller knows it; looked up otherwise. */
  state?: string;
  nics: { network: string; mac: string }[];
}

/**
 * The first IPv4 address in vmAddresses order (NIC order, then lease, agent, arp), asking each
 * source only when the ones before it had nothing. Null when unknown, stopped, or libvirtd is unreachable.
 */
export async function primaryIpv4(core: Core, vm: AddressedVm): Promise<string | null> {
  if (vm.nics.length === 0) return null;
  try {
    const state = vm.state ?? (await domainState(core, vm.name));
    if (!isOn(state === "unknown" || state === "absent" ? null : state)) return null;
    const get = sources(core, vm.name, vm.nics);
    for (const nic of vm.nics) {
      for (const source of ADDRESS_SOURCES) {
        const [mine] = assignAddresses([nic], await get(source));
        const v4 = mine?.addresses.find((a) => a.family === "ipv4");
        if (v4) return v4.address;
      }
    }
    return null;
  } catch (e) {
    // The VM resource shows state "unknown" then; its address is unknown too, not an error.
    if (e instanceof HypervisorUnavailable) return null;
    throw e;
  }
}
