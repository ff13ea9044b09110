// PVC's node list on a fleet: every live host from its membership record, with its domain state (flush) from etcd.
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { domainStates } from "../fleet/domain-state.ts";
import type { Fleet } from "../fleet/fleet.ts";
import { type HostRecord, liveHosts } from "../fleet/members.ts";
import { pvcNode } from "./pvc-node.ts";

/** A host as PVC's node object, from its record (getNodeInformation's names; counts as strings, memory as int MiB). */
function recordNode(h: HostRecord, domainState: string): Record<string, unknown> {
  const total = h.capacity.memory_mib;
  return {
    name: h.name,
    daemon_state: "run",
    // Coordination is etcd's: no berth host is a PVC coordinator of the others.
    coordinator_state: "client",
    domain_state: domainState,
    cpu_count: String(h.capacity.cpus),
    kernel: h.kernel ?? "",
    os: h.os ?? "",
    arch: h.arch ?? "",
    load: String(Math.round(h.load * 100) / 100),
    domains_count: String(h.vms),
    // The record carries counts, not each VM: the host itself lists its running VMs (GET /node/<node> there).
    running_domains: [],
    vcpu: { total: String(h.capacity.cpus), allocated: String(h.allocation.vcpus) },
    memory: {
      total,
      allocated: h.allocation.memory_mib,
      used: h.allocation.memory_mib,
      free: Math.max(0, total - h.allocation.memory_mib),
    },
  };
}

/** The live hosts `wanted` picks, by name; this host answers for itself with its own live figures. */
export async function pvcFleetNodes(
  core: Core,
  fleet: Fleet,
  caller: Caller | null,
  wanted: (name: string) => boolean,
): Promise<Record<string, unknown>[]> {
  const [hosts, states] = await Promise.all([liveHosts(fleet), domainStates(fleet)]);
  const names = [...hosts.keys()].filter(wanted).sort();
  return await Promise.all(
    names.map(async (n) => {
      if (n === fleet.name) return { ...(await pvcNode(core, caller)), coordinator_state: "client" };
      return recordNode(hosts.get(n) as HostRecord, states.get(n) ?? "ready");
    }),
  );
}
