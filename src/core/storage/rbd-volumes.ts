// VM disks on RBD: planned as raw RBD images, made as copy-on-write clones of their image (libvirt's rbd pool), deleted with the VM.
import type { DiskRow } from "../../db/vms.ts";
import { ErrorCode } from "../../ffi/error.ts";
import type { DiskSpec } from "../../xml/domain.ts";
import { buildRbdVolumeXml } from "../../xml/rbd.ts";
import type { Core } from "../context.ts";
import { findImage } from "../images/index.ts";
import type { Reverter } from "../reverter.ts";
import { isLibvirt, refreshPool } from "../storage-pool.ts";
import type { VolumePlan } from "../vms/plan.ts";
import { ensureRbdPool, RBD_FORMAT, rbdBackend, rbdSettings, rbdSource } from "./rbd.ts";
import { ensureRbdImage } from "./rbd-images.ts";
import { purgeRbdSnapshots } from "./rbd-snapshots.ts";

/** The RBD image a VM owns at `unit`. */
export function rbdUnitVolume(vmId: string, unit: number): string {
  return `vm-${vmId}-${unit}`;
}

/** With backend rbd, a VM's own disk is planned on RBD (an ISO or config drive stays in the directory pool). */
export function onRbd(core: Core, plan: VolumePlan): VolumePlan {
  if (!rbdBackend(core.config) || plan.shared || plan.disk.device !== "disk") return plan;
  const volume = rbdUnitVolume(plan.disk.vm_id, plan.disk.unit);
  const s = rbdSettings(core.config);
  return {
    ...plan,
    disk: { ...plan.disk, volume, path: `${s.cephPool}/${volume}`, format: RBD_FORMAT },
    backing: null,
  };
}

export function isRbdDisk(d: Pick<DiskRow, "format">): boolean {
  return d.format === RBD_FORMAT;
}

/** Clones the image's RBD volume (or makes a blank one), grows it to the planned size, and registers its undo. */
export async function createRbdVolume(core: Core, v: VolumePlan, r: Reverter): Promise<void> {
  const pool = await ensureRbdPool(core);
  const xml = buildRbdVolumeXml({ name: v.disk.volume, capacityBytes: v.disk.size });
  const created = v.disk.image
    ? await core.hv.call("volume.createFrom", {
        pool,
        xml,
        from: await ensureRbdImage(core, findImage(core, v.disk.image)),
      })
    : await core.hv.call("volume.create", { pool, xml });
  r.add(`delete rbd volume ${v.disk.volume}`, () => deleteRbdVolume(core, v.disk.volume));
  // libvirt's rbd clone keeps the parent's size.
  if (created.capacity < v.disk.size)
    await core.hv.call("volume.resize", { pool, volume: v.disk.volume, bytes: v.disk.size });
}

/** Deletes a VM's RBD image and its snapshots (the image's snapshot it was cloned from stays); one already gone is fine. */
export async function deleteRbdVolume(core: Core, volume: string): Promise<void> {
  const pool = await ensureRbdPool(core);
  // librbd refuses to remove an image that still has snapshots (berth's VM snapshots on RBD).
  await purgeRbdSnapshots(rbdSettings(core.config), volume);
  const del = () => core.hv.call("volume.delete", { pool, volume });
  try {
    await del();
  } catch (e) {
    if (!isLibvirt(e, ErrorCode.NO_STORAGE_VOL)) throw e;
    // libvirt caches an rbd pool's volumes per daemon: one another host made is unknown here until a refresh.
    await refreshPool(core, pool);
    await del().catch((again) => {
      if (!isLibvirt(again, ErrorCode.NO_STORAGE_VOL)) throw again;
    });
  }
}

/** The VM's own RBD images among `disks`. */
export function ownRbdVolumes(vmId: string, disks: Pick<DiskRow, "unit" | "volume" | "format">[]): string[] {
  return disks.filter((d) => isRbdDisk(d) && d.volume === rbdUnitVolume(vmId, d.unit)).map((d) => d.volume);
}

/** The disk as libvirt 9 takes an rbd pool's volume: a network disk with the cephx secret's UUID. */
export function rbdDiskSpec(core: Core, d: Pick<DiskRow, "volume" | "device" | "bus">): DiskSpec {
  return {
    path: "",
    format: "raw",
    device: d.device,
    bus: d.bus,
    rbd: rbdSource(rbdSettings(core.config), d.volume),
  };
}
