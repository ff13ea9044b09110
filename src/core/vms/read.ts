// Listing and showing VMs, with their status kept in step with libvirt's live state.
import { devicesByVm, listVms } from "../../db/vms.ts";
import type { Core } from "../context.ts";
import { loadVm, present, type Vm } from "./records.ts";

export interface VmQuery {
  status?: string;
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

export function listVmViews(core: Core, q: VmQuery = {}): Vm[] {
  const { disks, nics } = devicesByVm(core.db);
  const vms = listVms(core.db, { status: q.status, name: q.name }).map((row) =>
    present(row, disks.get(row.id) ?? [], nics.get(row.id) ?? []),
  );
  return q.tag === undefined ? vms : vms.filter((vm) => hasTag(vm, q.tag as string));
}

export function getVm(core: Core, name: string): Vm {
  return loadVm(core, name);
}
