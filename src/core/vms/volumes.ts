// Creating and deleting a VM's own volumes in berth's pool (linked clones of images, or blank).

import type { DiskRow } from "../../db/vms.ts";
import { ErrorCode } from "../../ffi/error.ts";
import type { Core } from "../context.ts";
import type { Reverter } from "../reverter.ts";
import { createRbdVolume, deleteRbdVolume, isRbdDisk, rbdUnitVolume } from "../storage/rbd-volumes.ts";
import { isLibvirt } from "../storage-pool.ts";
import { cidataVolume } from "./cloud-init.ts";
import type { VolumePlan } from "./plan.ts";

/** The name of the volume a VM owns at `unit`: a qcow2 disk, or an ISO of its own (an uploaded one). */
export function unitVolume(vmId: string, unit: number, device: DiskRow["device"]): string {
  return `vm-${vmId}-${unit}.${device === "cdrom" ? "iso" : "qcow2"}`;
}

/** Volumes a VM owns are named after it and its unit, or are its config drive; ISOs it borrows from images are not. */
export function ownsVolume(
  vmId: string,
  d: Pick<DiskRow, "unit" | "volume" | "device"> & { format?: string },
): boolean {
  if (d.device === "cdrom") {
    return d.volume === cidataVolume(vmId) || d.volume === unitVolume(vmId, d.unit, "cdrom");
  }
  if (d.format !== undefined && isRbdDisk({ format: d.format }))
    return d.device === "disk" && d.volume === rbdUnitVolume(vmId, d.unit);
  return d.device === "disk" && d.volume === unitVolume(vmId, d.unit, "disk");
}

/** Creates the plan's volume (an overlay in ~10 ms when it has a backing image) and registers its undo. */
export async function createVolume(core: Core, pool: string, v: VolumePlan, r: Reverter): Promise<void> {
  if (v.shared) return;
  if (isRbdDisk(v.disk)) return createRbdVolume(core, v, r);
  // The Worker builds the XML: serializing it here cost the HTTP thread more than the call itself.
  const created = await core.hv.call("volume.createSpec", {
    pool,
    spec: {
      name: v.disk.volume,
      capacityBytes: v.disk.size,
      format: "qcow2",
      ...(v.backing ? { backing: v.backing } : {}),
    },
  });
  r.add(`delete volume ${v.disk.volume}`, () => deleteVolume(core, pool, v.disk.volume));
  v.disk.path = created.path;
}

/** Deletes a volume a VM owns where it lives: an RBD image, or a volume of berth's directory pool `pool`. */
export async function deleteOwnVolume(
  core: Core,
  pool: string,
  d: { volume: string; format: string },
): Promise<void> {
  if (isRbdDisk(d)) await deleteRbdVolume(core, d.volume);
  else await deleteVolume(core, pool, d.volume);
}

/** Deletes a volume; one that is already gone is fine. */
export async function deleteVolume(core: Core, pool: string, volume: string): Promise<void> {
  try {
    await core.hv.call("volume.delete", { pool, volume });
  } catch (e) {
    if (!isLibvirt(e, ErrorCode.NO_STORAGE_VOL)) throw e;
  }
}
