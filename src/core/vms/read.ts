// Listing and showing VMs, with their status kept in step with libvirt's live state.
import { devicesByVm, listVms } from "../../db/vms.ts";
import { HypervisorUnavailable } from "../../errors.ts";
import type { DomainState } from "../../ffi/constants.ts";
import type { Core } from "../context.ts";
import { primaryIpv4 } from "./addresses.ts";
import { loadVm, networkInfo, present, type Vm } from "./records.ts";

export interface VmQuery {
  /** berth's status (creating, running, stopped, paused, error, gone). */
  state?: string;
  name?: string;
  /** "key" or "key=value": VMs carrying that tag (exact match). */
  tag?: string;
}

function hasTag(vm: Vm, tag: string): boolean {
  const eq = tag.indexOf("=");
  if (eq < 0) return Object.hasOwn(vm.tags, tag);
  const key = tag.slice(0, eq);
  return Object.hasOwn(vm.tags, key) && vm.tags[key] === tag.slice(eq + 1);
}

/** Per core, the domain.states call in flight: concurrent lists share it instead of queueing one call each. */
const inFlight = new WeakMap<Core, Promise<Map<string, DomainState> | null>>();

/** libvirt's state of every domain, in one Worker call; null while the hypervisor is unreachable. */
function liveStates(core: Core): Promise<Map<string, DomainState> | null> {
  const shared = inFlight.get(core);
  if (shared) return shared;
  const call = core.hv
    .call("domain.states", {})
    .then(
      (list) => new Map(list.map((d) => [d.name, d.state])),
      (e) => {
        if (e instanceof HypervisorUnavailable) return null;
        throw e;
      },
    )
    .finally(() => inFlight.delete(core));
  inFlight.set(core, call);
  return call;
}

export async function listVmViews(core: Core, q: VmQuery = {}): Promise<Vm[]> {
  const { disks, nics } = devicesByVm(core.db);
  const live = await liveStates(core);
  const networks = networkInfo(core);
  const vms = listVms(core.db, { status: q.state, name: q.name }).map((row) =>
    present(
      row,
      disks.get(row.id) ?? [],
      nics.get(row.id) ?? [],
      live ? (live.get(row.name) ?? "absent") : "unknown",
      networks,
    ),
  );
  return q.tag === undefined ? vms : vms.filter((vm) => hasTag(vm, q.tag as string));
}

/** One VM, with its primary IPv4 looked up (lists skip that lookup: it costs a call per VM). */
export async function getVm(core: Core, name: string): Promise<Vm> {
  const vm = await loadVm(core, name);
  return { ...vm, primary_ipv4: await primaryIpv4(core, vm) };
}
