// A new disk of a VM made from a local file (an uploaded image): checked as an image import is, moved into the pool as the VM's own volume.
import { join } from "node:path";
import { type DiskRow, deleteDisk, insertDisk } from "../../db/vms.ts";
import { BadRequest } from "../../errors.ts";
import { buildDiskDeviceXml, type DiskBus, diskTarget } from "../../xml/domain.ts";
import type { Caller } from "../auth/index.ts";
import { checkDiskSize, checkDisksFit, poolSpace } from "../capacity.ts";
import type { Core } from "../context.ts";
import { type Detected, detectImage, invalidImage } from "../images/detect.ts";
import { storeVolume } from "../images/store.ts";
import type { Operation } from "../operations.ts";
import { poolDir } from "../paths.ts";
import { Reverter } from "../reverter.ts";
import { ensureStoragePool, refreshPool } from "../storage-pool.ts";
import { checkNewDiskBytes, isRunning, newDiskSlot, persist, refuseSataHotplug } from "./disks.ts";
import { diskSpec } from "./domain-xml.ts";
import { diskView, type VmDisk, vmTarget } from "./records.ts";
import { unitVolume } from "./volumes.ts";

export interface FileDiskRequest {
  /** Default `disk<n>`, as addDisk names them. */
  name?: string;
  /** A local file berth may move: on success it is the VM's volume, no longer at this path. */
  file: string;
  /** disk: a standalone qcow2 image; cdrom: an ISO 9660 image, attached read-only. Default disk. */
  media?: "disk" | "cdrom";
  /** Default scsi; a cdrom cannot be on virtio. */
  bus?: DiskBus;
}

/** What detectImage is asked to find: a disk from a file is qcow2 only, since any bytes pass as raw. */
async function detectFor(file: string, media: "disk" | "cdrom", label: string): Promise<Detected> {
  const d = await detectImage(file, media === "cdrom" ? "iso" : "disk", label);
  if (media === "disk" && d.format !== "qcow2") {
    throw invalidImage(
      `${label} is a ${d.format} image; a disk from a file takes a qcow2 image (qemu-img convert -O qcow2)`,
    );
  }
  return d;
}

/**
 * Adds `req.file` to VM `vmName` as a new disk it owns (deleted with the disk or the VM), hot-plugged
 * when the VM runs. The file is checked before the 202 (400 when it is not a standalone image of the
 * kind `media` takes) and moved into the pool by the operation; it must stay where it is until then.
 */
export async function addDiskFromFile(
  core: Core,
  caller: Caller | null,
  vmName: string,
  req: FileDiskRequest,
): Promise<Operation> {
  const { vm, name, unit } = newDiskSlot(core, caller, vmName, req.name);
  const media = req.media ?? "disk";
  const bus = req.bus ?? "scsi";
  if (media === "cdrom" && bus === "virtio") {
    throw new BadRequest(`disk ${name}: a cdrom cannot be on bus virtio (scsi, sata or usb)`);
  }
  const label = `the file of disk ${name}`;
  const detected = await detectFor(req.file, media, label);
  if (media === "disk") checkDiskSize(core, `disk ${name}`, detected.virtualSize);
  const volume = unitVolume(vm.id, unit, media);
  const disk: DiskRow = {
    vm_id: vm.id,
    unit,
    name,
    volume,
    path: join(poolDir(core.config), volume),
    format: media === "cdrom" ? "raw" : "qcow2",
    device: media,
    size: detected.virtualSize,
    image: null,
    bus,
  };
  await refuseSataHotplug(core, vmName, disk, "added to");
  await checkNewDiskBytes(core, vmName, disk.size);
  return core.ops.start(
    "vm.disk.add",
    vmTarget(vmName),
    async () => {
      const r = new Reverter();
      return r.run(async (): Promise<VmDisk> => {
        // Again under the VM's lock: it may have started, the pool may have filled.
        await refuseSataHotplug(core, vmName, disk, "added to");
        const pool = await ensureStoragePool(core);
        checkDisksFit(core, await poolSpace(core, disk.size), disk.size);
        await storeVolume(core, r, pool, req.file, volume, detected);
        // Checked again once berth holds it: the caller's file could have changed since the first look.
        const held = await detectFor(disk.path, media, label);
        if (held.virtualSize !== detected.virtualSize) {
          throw invalidImage(`${label} changed while it was being added`);
        }
        await refreshPool(core, pool);
        if (await isRunning(core, vmName)) {
          const xml = buildDiskDeviceXml(diskSpec(core, disk), unit);
          await core.hv.call("domain.attachDevice", { name: vmName, xml, live: true });
          r.add(`detach ${name}`, () =>
            core.hv.call("domain.detachDevice", { name: vmName, xml, live: true }),
          );
        }
        insertDisk(core.db, disk);
        r.add(`forget disk ${name}`, () => deleteDisk(core.db, vm.id, unit));
        await persist(core, vm.id, vmName);
        core.events.publish("vm.disk.added", vmTarget(vmName), {
          disk: name,
          target: diskTarget(bus, unit),
          bus,
        });
        return diskView(disk);
      });
    },
    { lock: true },
  );
}
