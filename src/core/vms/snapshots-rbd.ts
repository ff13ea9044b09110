// A VM's snapshots when its disks are RBD images: Ceph's own snapshots (`rbd snap`), one per disk under the snapshot's name.
import { type DiskRow, disksOf, updateDiskSize, type VmRow } from "../../db/vms.ts";
import { Conflict } from "../../errors.ts";
import type { DomainState } from "../../ffi/constants.ts";
import { diskTarget } from "../../xml/domain.ts";
import type { Core } from "../context.ts";
import { ensureRbdPool, rbdSettings } from "../storage/rbd.ts";
import {
  createRbdSnapshots,
  rbdImageSize,
  removeRbdSnapshot,
  rollbackRbdSnapshots,
} from "../storage/rbd-snapshots.ts";
import { isRbdDisk } from "../storage/rbd-volumes.ts";
import { refreshPool } from "../storage-pool.ts";
import { domainState } from "./domain.ts";

export interface RbdSnapshotPlan {
  /** The RBD images the snapshot covers: every disk of the VM. */
  volumes: string[];
  /** Its CD-ROMs (ISOs, the config drive), local and read-only to the guest: not in the snapshot. */
  leftOut: string[];
}

const label = (d: Pick<DiskRow, "name" | "bus" | "unit">) => `${d.name} (${diskTarget(d.bus, d.unit)})`;

/** What a snapshot of the VM covers on RBD; null when none of its disks is RBD; 409 when only some are. */
export function rbdSnapshotPlan(vmName: string, disks: DiskRow[]): RbdSnapshotPlan | null {
  const rbd = disks.filter((d) => d.device === "disk" && isRbdDisk(d));
  if (rbd.length === 0) return null;
  const other = disks.filter((d) => d.device === "disk" && !isRbdDisk(d));
  if (other.length > 0) {
    throw new Conflict(
      `vm ${vmName} cannot be snapshotted: disks ${rbd.map(label).join(", ")} are RBD and ` +
        `${other.map((d) => `${label(d)} is ${d.format}`).join(", ")}; one snapshot holds either kind, not both`,
    );
  }
  return { volumes: rbd.map((d) => d.volume), leftOut: disks.filter((d) => d.device !== "disk").map(label) };
}

/** Takes `snap` of every disk, the guest paused meanwhile so all disks hold one moment; returns the state it was in. */
export async function takeRbdSnapshot(
  core: Core,
  vmName: string,
  plan: RbdSnapshotPlan,
  snap: string,
): Promise<DomainState> {
  const state = (await domainState(core, vmName)) ?? "shutoff";
  const pause = state === "running" || state === "blocked";
  if (pause) await core.hv.call("domain.suspend", { name: vmName });
  try {
    await createRbdSnapshots(rbdSettings(core.config), plan.volumes, snap);
  } finally {
    if (pause) await core.hv.call("domain.resume", { name: vmName });
  }
  return state;
}

/** Rolls every disk back to `snap`: only while the VM is stopped (qemu holds an open image's lock; there is no memory to resume). */
export async function revertRbdSnapshot(
  core: Core,
  vm: VmRow,
  plan: RbdSnapshotPlan,
  snap: string,
): Promise<void> {
  const state = await domainState(core, vm.name);
  if (state !== "shutoff") {
    throw new Conflict(`vm ${vm.name} is ${state}: stop it before reverting to its RBD snapshot ${snap}`);
  }
  const s = rbdSettings(core.config);
  await rollbackRbdSnapshots(s, plan.volumes, snap);
  // A rollback brings back the image's size of that time as well: the record follows the image.
  for (const d of disksOf(core.db, vm.id)) {
    if (d.device === "disk" && isRbdDisk(d))
      updateDiskSize(core.db, vm.id, d.unit, await rbdImageSize(s, d.volume));
  }
  // libvirt caches an rbd pool's volumes (their capacity too) per daemon.
  await refreshPool(core, await ensureRbdPool(core));
}

/** Removes `snap` from every disk; one already gone is fine. */
export async function deleteRbdSnapshot(core: Core, plan: RbdSnapshotPlan, snap: string): Promise<void> {
  const s = rbdSettings(core.config);
  for (const v of plan.volumes) await removeRbdSnapshot(s, v, snap);
}
