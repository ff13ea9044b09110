// Listing and showing VMs as objects (for the fronts), with libvirt's live state from the state map.

import { ownersByVm } from "../../db/vm-owners.ts";
import { devicesByVm, listVms } from "../../db/vms.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import { actsAsAdmin, assertVmVisible, type Caller, sightOf, type VmSight } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { checkName } from "../names.ts";
import { primaryIpv4 } from "./addresses.ts";
import { loadVm, networkInfo, present, type Vm } from "./records.ts";
import { loadedStates } from "./state-map.ts";

export interface VmQuery {
  /** berth's status (creating, running, stopped, paused, error, gone). */
  state?: string;
  name?: string;
  /** "key" or "key=value": VMs carrying that tag (exact match). */
  tag?: string;
  /** Only the VMs of this project (exact name). */
  project?: string;
}

function hasTag(vm: Vm, tag: string): boolean {
  const eq = tag.indexOf("=");
  if (eq < 0) return Object.hasOwn(vm.tags, tag);
  const key = tag.slice(0, eq);
  return Object.hasOwn(vm.tags, key) && vm.tags[key] === tag.slice(eq + 1);
}

/** What someone who is not the owner sees with [auth] public_reads: nothing secret, nothing of the host. */
export function publicView(vm: Vm): Vm {
  return {
    ...vm,
    uuid: null,
    boot: { mode: vm.boot.mode },
    description: "",
    ssh_keys: [],
    disks: [],
    nics: [],
  };
}

function seen(vm: Vm, sight: VmSight): Vm {
  return sight === "full" ? vm : publicView(vm);
}

/**
 * The VMs the caller may see (all for admins; their own for users, and the rest in public view with
 * public_reads; a user limited to projects only those in them), optionally of one project.
 */
export async function listVmViews(core: Core, caller: Caller | null, q: VmQuery = {}): Promise<Vm[]> {
  if (q.project !== undefined) checkName("project", q.project);
  const all = listVms(core.db, { status: q.state, name: q.name, project: q.project });
  // Admins (and everyone with auth off) see every VM whole: no owners to look up.
  const owners = actsAsAdmin(core, caller) ? null : ownersByVm(core.db);
  const rows = all
    .map((row) => ({
      row,
      sight: owners
        ? sightOf(core, caller, owners.get(row.name) ?? null, row.project ?? DEFAULT_PROJECT)
        : ("full" as const),
    }))
    .filter((r) => r.sight !== "none");
  const { disks, nics } = devicesByVm(core.db);
  const live = await loadedStates(core.hv);
  const networks = networkInfo(core);
  const vms = rows.map(({ row, sight }) =>
    seen(
      present(
        row,
        disks.get(row.id) ?? [],
        nics.get(row.id) ?? [],
        live ? (live.get(row.name) ?? "absent") : "unknown",
        networks,
      ),
      sight,
    ),
  );
  return q.tag === undefined ? vms : vms.filter((vm) => hasTag(vm, q.tag as string));
}

/** One VM, with its primary IPv4 looked up (lists skip that lookup: it costs a call per VM); 404 when hidden. */
export async function getVm(core: Core, caller: Caller | null, name: string): Promise<Vm> {
  const sight = assertVmVisible(core, caller, name);
  const vm = await loadVm(core, name);
  return seen({ ...vm, primary_ipv4: await primaryIpv4(core, vm) }, sight);
}
