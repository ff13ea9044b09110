// PVC's nodes over core: this host is the one node (libvirt's hostname), the primary coordinator, with its CPUs, memory and running VMs.
import { arch, freemem, loadavg, release, type } from "node:os";
import { AppError } from "../../errors.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import { hostSize } from "../capacity.ts";
import type { Core } from "../context.ts";
import { domainStates } from "../fleet/domain-state.ts";
import { flushHost, unflushHost } from "../fleet/flush.ts";
import { MACHINE } from "../fleet/members.ts";
import { listVmViews } from "../vms/index.ts";
import { pvcFleetNodes } from "./pvc-fleet-nodes.ts";
import { pvcLimitMatcher } from "./pvc-limit.ts";

// Per hypervisor client: the hostname changes only with a new host.
const hostnames = new WeakMap<object, string>();

/** This node's name: its fleet name, else libvirt's hostname (virConnectGetHostname), read once. */
export async function pvcNodeName(core: Core): Promise<string> {
  // In a fleet, PVC's nodes are the fleet's hosts, named as the fleet names them.
  if (core.fleet) return core.fleet.name;
  const known = hostnames.get(core.hv);
  if (known !== undefined) return known;
  const name = (await core.hv.call("hostInfo", {})).hostname;
  hostnames.set(core.hv, name);
  return name;
}

/** This host as PVC's node object (client-common getNodeInformation): counts as strings, memory as int MiB. */
export async function pvcNode(core: Core, caller: Caller | null): Promise<Record<string, unknown>> {
  const [name, size, vms] = await Promise.all([pvcNodeName(core), hostSize(core), listVmViews(core, caller)]);
  const running = vms.filter((v) => v.state === "running" || v.state === "blocked" || v.state === "paused");
  const allocatedMiB = running.reduce((n, v) => n + v.memory_mib, 0);
  // libvirt's total; the free part is what this machine's kernel reports available (berth runs on the host).
  const free = Math.min(size.memory_mib, Math.floor(freemem() / 1024 ** 2));
  return {
    name,
    daemon_state: "run",
    coordinator_state: "primary",
    domain_state: core.fleet ? ((await domainStates(core.fleet)).get(name) ?? "ready") : "ready",
    cpu_count: String(size.cpus),
    kernel: release(),
    os: type().toLowerCase(),
    arch: MACHINE[arch()] ?? arch(),
    load: String(Math.round((loadavg()[0] ?? 0) * 100) / 100),
    domains_count: String(running.length),
    running_domains: running.flatMap((v) => (v.uuid === null ? [] : [v.uuid])),
    vcpu: { total: String(size.cpus), allocated: String(running.reduce((n, v) => n + v.vcpus, 0)) },
    memory: { total: size.memory_mib, allocated: allocatedMiB, used: size.memory_mib - free, free },
  };
}

/** GET /node (limit: PVC's fuzzy regex on the name) and /node/<node> (exact): [] when nothing matches. */
export async function pvcNodes(
  core: Core,
  caller: Caller | null,
  q: { limit?: string; exact?: string },
): Promise<Record<string, unknown>[]> {
  const matches = pvcLimitMatcher(q.limit);
  const wanted = (name: string) => (q.exact !== undefined ? q.exact === name : matches(name));
  if (core.fleet) return await pvcFleetNodes(core, core.fleet, caller, wanted);
  const name = await pvcNodeName(core);
  if (!wanted(name)) return [];
  return [await pvcNode(core, caller)];
}

/** PVC's failure naming a node that is not this host. */
export const noSuchNode = (node: string) =>
  new AppError(404, "not_found", `No node named "${node}" is present in the cluster.`);

/** A node action that needs another node to move VMs to: there is none without a fleet. */
export const noOtherNode = (what: string) =>
  new AppError(
    409,
    "no_other_node",
    `Cannot ${what}: this cluster has one node and no other node to move VMs to.`,
  );

export type PvcNodeAction = "secondary" | "primary" | "flush" | "unflush" | "ready";

/**
 * POST /node/<node>/<action>, as PVC answered for its single primary coordinator: `secondary` is accepted
 * (PVC cleared the primary, and the only coordinator took it back at once), `primary` fails (already
 * primary); flush and unflush/ready need another node to move VMs to. On a fleet they are real
 * (admins only), asked of the node itself (the PVC front forwards them there).
 */
export async function pvcNodeAction(
  core: Core,
  node: string,
  action: PvcNodeAction,
  caller: Caller | null = null,
): Promise<string> {
  if (node !== (await pvcNodeName(core))) throw noSuchNode(node);
  switch (action) {
    case "secondary":
      return `Setting node ${node} in secondary router mode.`;
    case "primary":
      throw new AppError(409, "conflict", `Node "${node}" is already in primary router mode.`);
    case "flush":
      if (!core.fleet) throw noOtherNode(`flush node "${node}"`);
      requireAdmin(core, caller, "flush a node");
      await flushHost(core, core.fleet, caller);
      return `Flushing hypervisor ${node} of running VMs.`;
    default:
      if (!core.fleet) throw noOtherNode(`unflush node "${node}"`);
      requireAdmin(core, caller, "unflush a node");
      await unflushHost(core.fleet);
      return `Restoring hypervisor ${node} to active service.`;
  }
}
