// Kahu's volumes of an instance over core's disks: list, show, add (blank in MiB, or from an uploaded image, on a chosen guest interface) and delete.
import { BadRequest, NotFound } from "../../errors.ts";
import type { DiskBus } from "../../xml/domain.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { operationFinished } from "../operation-outcome.ts";
import { ROOT_DISK } from "../profile-check.ts";
import { CIDATA } from "../vms/cloud-init.ts";
import { addDiskFromFile } from "../vms/disk-from-file.ts";
import { addDisk, removeDisk, type VmDisk } from "../vms/index.ts";
import { GUEST_IFACES, type GuestIface, type KahuScope, type KahuVolume, kahuVolumes } from "./kahu.ts";
import { instanceVm } from "./kahu-instances.ts";

export async function listVolumes(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
): Promise<Record<string, KahuVolume>> {
  return kahuVolumes((await instanceVm(core, caller, scope, id)).disks);
}

export async function showVolume(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  name: string,
): Promise<KahuVolume> {
  const all = await listVolumes(core, caller, scope, id);
  if (!Object.hasOwn(all, name)) throw new NotFound(`instance ${id} has no volume ${name}`);
  return all[name] as KahuVolume;
}

export interface KahuVolumeRequest {
  name: string;
  /** MiB, rounded up to whole GiB (berth's disk unit); or give `file`. */
  size?: number;
  /** A local file (Kahu's uploaded `file`): a qcow2 image for a disk, an ISO for a cdrom; moved into the pool. */
  file?: string;
  bootable: boolean;
  mediaType: "disk" | "cdrom";
  guestIface: GuestIface;
}

/** The volume names Kahu gave its own drives: an added volume may not take them. */
const RESERVED = new Set([ROOT_DISK, "config", CIDATA]);

const MiB = 1024 ** 2;

/** The berth bus of a guest interface; a cdrom cannot sit on virtio-blk, so Kahu's default virtio becomes scsi there. */
function busOf(req: KahuVolumeRequest): DiskBus {
  const bus = GUEST_IFACES[req.guestIface];
  return req.mediaType === "cdrom" && bus === "virtio" ? "scsi" : bus;
}

/** Adds a blank volume (`size`) or one made from `file`, and waits until it is attached (Kahu answered 201 with it). */
export async function addVolume(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  req: KahuVolumeRequest,
): Promise<{ location: string; body: { name: string; size: number } }> {
  if (RESERVED.has(req.name)) throw new BadRequest(`volume name ${req.name} is one of the instance's own`);
  if (req.file !== undefined && req.size !== undefined) {
    throw new BadRequest("size and file are mutually exclusive: send one");
  }
  // Only the root disk boots in berth; a blank cdrom has nothing to read.
  if (req.bootable) throw new BadRequest("bootable: only the root volume boots here; send bootable=false");
  const vm = await instanceVm(core, caller, scope, id);
  const location = `${scope.scope}/compute/instance/${id}/storage/${req.name}/`;
  if (req.file !== undefined) {
    const op = await addDiskFromFile(core, caller, vm.name, {
      name: req.name,
      file: req.file,
      media: req.mediaType,
      bus: busOf(req),
    });
    const disk = (await operationFinished(core.ops, op)).result as VmDisk;
    return { location, body: { name: req.name, size: Math.ceil(disk.size / MiB) } };
  }
  if (req.mediaType === "cdrom") throw new BadRequest("media-type cdrom needs a file (an ISO), not a size");
  if (req.size === undefined) throw new BadRequest("size (MiB) or file is required");
  const sizeGb = Math.max(1, Math.ceil(req.size / 1024));
  const op = await addDisk(core, caller, vm.name, { name: req.name, size_gb: sizeGb, bus: busOf(req) });
  await operationFinished(core.ops, op);
  return { location, body: { name: req.name, size: sizeGb * 1024 } };
}

export async function deleteVolume(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  name: string,
): Promise<void> {
  if (RESERVED.has(name))
    throw new BadRequest(`volume ${name} is one of the instance's own: it cannot be deleted`);
  const vm = await instanceVm(core, caller, scope, id);
  if (!vm.disks.some((d) => d.name === name)) throw new NotFound(`instance ${id} has no volume ${name}`);
  await operationFinished(core.ops, removeDisk(core, caller, vm.name, name, {}));
}
