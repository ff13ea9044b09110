// Kahu's volumes of an instance over core's disks: list, show, add (blank, in MiB, on a chosen guest interface) and delete.
import { BadRequest, NotFound } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { operationFinished } from "../operation-outcome.ts";
import { ROOT_DISK } from "../profile-check.ts";
import { CIDATA } from "../vms/cloud-init.ts";
import { addDisk, removeDisk } from "../vms/index.ts";
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
  /** MiB, rounded up to whole GiB (berth's disk unit). */
  size: number;
  bootable: boolean;
  mediaType: "disk" | "cdrom";
  guestIface: GuestIface;
}

/** The volume names Kahu gave its own drives: an added volume may not take them. */
const RESERVED = new Set([ROOT_DISK, "config", CIDATA]);

/** Adds a blank volume and waits until it is attached (Kahu answered 201 with it). */
export async function addVolume(
  core: Core,
  caller: Caller | null,
  scope: KahuScope,
  id: string,
  req: KahuVolumeRequest,
): Promise<{ location: string; body: { name: string; size: number } }> {
  if (RESERVED.has(req.name)) throw new BadRequest(`volume name ${req.name} is one of the instance's own`);
  // Only the root disk boots in berth; a blank cdrom has nothing to read.
  if (req.bootable) throw new BadRequest("bootable: only the root volume boots here; send bootable=false");
  if (req.mediaType === "cdrom") throw new BadRequest("media-type cdrom needs a file (an ISO), not a size");
  const vm = await instanceVm(core, caller, scope, id);
  const sizeGb = Math.max(1, Math.ceil(req.size / 1024));
  const op = await addDisk(core, caller, vm.name, {
    name: req.name,
    size_gb: sizeGb,
    bus: GUEST_IFACES[req.guestIface],
  });
  await operationFinished(core.ops, op);
  return {
    location: `${scope.scope}/compute/instance/${id}/storage/${req.name}/`,
    body: { name: req.name, size: sizeGb * 1024 },
  };
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
