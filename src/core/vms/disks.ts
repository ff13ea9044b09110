// A VM's disks: add (hot-plugged on its bus when running; never on SATA), grow (live or offline), remove.

import { ownerOfVm } from "../../db/vm-owners.ts";
import {
  type DiskRow,
  deleteDisk,
  disksOf,
  insertDisk,
  nicsOf,
  updateDiskSize,
  type VmRow,
} from "../../db/vms.ts";
import { BadRequest, Conflict, NotFound } from "../../errors.ts";
import { buildDiskDeviceXml, diskTarget } from "../../xml/domain.ts";
import { assertVmActor, assertVmSecrets, type Caller, checkQuota } from "../auth/index.ts";
import { checkDiskSize, checkDisksFit, spaceFor } from "../capacity.ts";
import type { Core } from "../context.ts";
import { checkName } from "../names.ts";
import type { Operation } from "../operations.ts";
import { Reverter } from "../reverter.ts";
import { ensureRbdPool } from "../storage/rbd.ts";
import { isRbdDisk } from "../storage/rbd-volumes.ts";
import { ensureStoragePool } from "../storage-pool.ts";
import { domainState } from "./domain.ts";
import { diskSpec, domainXmlFor } from "./domain-xml.ts";
import { type DiskRequest, MAX_DISKS, planVolume } from "./plan.ts";
import { diskView, findVmRow, refuseRawXml, type VmDisk, vmTarget } from "./records.ts";
import { createVolume, deleteOwnVolume, ownsVolume } from "./volumes.ts";

const GiB = 1024 ** 3;

export function listDisks(core: Core, caller: Caller | null, vmName: string): VmDisk[] {
  assertVmSecrets(core, caller, vmName);
  return disksOf(core.db, findVmRow(core, vmName).id).map(diskView);
}

function findDisk(core: Core, vmId: string, vmName: string, disk: string): DiskRow {
  const d = disksOf(core.db, vmId).find((x) => x.name === disk);
  if (!d) throw new NotFound(`vm ${vmName} has no disk ${disk}`);
  return d;
}

/** Rewrites the persistent definition from berth's records (the live one is changed by hot-plug). */
export async function persist(core: Core, vmId: string, vmName: string): Promise<void> {
  const row = findVmRow(core, vmName);
  await core.hv.call("domain.define", {
    xml: domainXmlFor(core, row, disksOf(core.db, vmId), nicsOf(core.db, vmId)),
  });
}

export async function isRunning(core: Core, name: string): Promise<boolean> {
  const s = await domainState(core, name);
  if (s === null) throw new Conflict(`vm ${name} has no domain in libvirt`);
  return s !== "shutoff" && s !== "crashed";
}

/** QEMU's AHCI controller has no hot-plug: a SATA disk is added or removed only while the VM is off. */
export async function refuseSataHotplug(
  core: Core,
  vmName: string,
  d: DiskRow,
  verb: "added to" | "removed from",
) {
  if (d.bus === "sata" && (await isRunning(core, vmName))) {
    throw new Conflict(
      `disk ${d.name} is on bus sata, which cannot be ${verb} a running vm; stop vm ${vmName} first, or use bus scsi, virtio or usb`,
    );
  }
}

/** Refuses before the 202 what the pool cannot hold (507) or the owner's disk quota does not allow (403). */
export async function checkNewDiskBytes(
  core: Core,
  vmName: string,
  need: number,
  format?: string | null,
): Promise<void> {
  checkQuota(core, ownerOfVm(core.db, vmName), { disk_bytes: need });
  // A disk on RBD takes its bytes from the Ceph pool, not the directory pool.
  checkDisksFit(core, await spaceFor(core, need, format), need);
}

/** The lowest unit no disk holds, after refusing a taken name (409) and a full VM (409). */
function freeUnit(vmName: string, disks: DiskRow[], name: string): number {
  if (disks.some((d) => d.name === name)) throw new Conflict(`vm ${vmName} already has a disk ${name}`);
  const used = new Set(disks.map((d) => d.unit));
  let unit = 0;
  while (used.has(unit)) unit++;
  if (unit >= MAX_DISKS) throw new Conflict(`vm ${vmName} already has ${MAX_DISKS} disks`);
  return unit;
}

/**
 * Where a new disk goes, after the checks every way of adding one makes: the caller may change the VM,
 * it was not defined from raw XML, the name is valid and free, a unit is free.
 */
export function newDiskSlot(
  core: Core,
  caller: Caller | null,
  vmName: string,
  wanted: string | undefined,
): { vm: VmRow; name: string; unit: number } {
  assertVmActor(core, caller, vmName);
  const vm = findVmRow(core, vmName);
  refuseRawXml(vm, "add disks");
  const disks = disksOf(core.db, vm.id);
  const name = wanted ?? `disk${disks.length}`;
  checkName("disk", name);
  return { vm, name, unit: freeUnit(vmName, disks, name) };
}

export async function addDisk(
  core: Core,
  caller: Caller | null,
  vmName: string,
  req: DiskRequest,
): Promise<Operation> {
  const { vm, name, unit } = newDiskSlot(core, caller, vmName, req.name);
  const plan = planVolume(core, vm.id, unit, { ...req, name });
  await refuseSataHotplug(core, vmName, plan.disk, "added to");
  await checkNewDiskBytes(core, vmName, plan.shared ? 0 : plan.disk.size, plan.disk.format);
  return core.ops.start(
    "vm.disk.add",
    vmTarget(vmName),
    async () => {
      const r = new Reverter();
      return r.run(async () => {
        // Again under the VM's lock and before anything is made: it may have started, the pool may have filled.
        await refuseSataHotplug(core, vmName, plan.disk, "added to");
        const pool = await ensureStoragePool(core);
        const need = plan.shared ? 0 : plan.disk.size;
        checkDisksFit(core, await spaceFor(core, need, plan.disk.format), need);
        await createVolume(core, pool, plan, r);
        if (await isRunning(core, vmName)) {
          const xml = buildDiskDeviceXml(diskSpec(core, plan.disk), unit);
          await core.hv.call("domain.attachDevice", { name: vmName, xml, live: true });
          r.add(`detach ${name}`, () =>
            core.hv.call("domain.detachDevice", { name: vmName, xml, live: true }),
          );
        }
        insertDisk(core.db, plan.disk);
        r.add(`forget disk ${name}`, () => deleteDisk(core.db, vm.id, unit));
        await persist(core, vm.id, vmName);
        core.events.publish("vm.disk.added", vmTarget(vmName), {
          disk: name,
          target: diskTarget(plan.disk.bus, unit),
          bus: plan.disk.bus,
        });
        return diskView(plan.disk);
      });
    },
    { lock: true },
  );
}

export async function growDisk(
  core: Core,
  caller: Caller | null,
  vmName: string,
  disk: string,
  sizeGb: number,
): Promise<Operation> {
  assertVmActor(core, caller, vmName);
  const vm = findVmRow(core, vmName);
  const d = findDisk(core, vm.id, vmName, disk);
  const bytes = sizeGb * GiB;
  if (d.device !== "disk") throw new BadRequest(`disk ${disk} is a ${d.device}; only disks grow`);
  if (bytes < d.size)
    throw new BadRequest(`disk ${disk} is ${d.size} bytes; shrinking to ${bytes} is refused`);
  if (bytes === d.size) throw new Conflict(`disk ${disk} is already ${sizeGb} GiB`);
  checkDiskSize(core, `disk ${disk}`, bytes);
  await checkNewDiskBytes(core, vmName, bytes - d.size, d.format);
  return core.ops.start(
    "vm.disk.grow",
    vmTarget(vmName),
    async () => {
      // A disk on RBD is an image of the rbd pool: measured and resized there.
      const pool = isRbdDisk(d) ? await ensureRbdPool(core) : await ensureStoragePool(core);
      checkDisksFit(core, await spaceFor(core, bytes - d.size, d.format), bytes - d.size);
      if (await isRunning(core, vmName)) {
        await core.hv.call("domain.blockResize", { name: vmName, disk: diskTarget(d.bus, d.unit), bytes });
      } else {
        await core.hv.call("volume.resize", { pool, volume: d.volume, bytes });
      }
      updateDiskSize(core.db, vm.id, d.unit, bytes);
      core.events.publish("vm.disk.grown", vmTarget(vmName), { disk, size: bytes });
      return diskView({ ...d, size: bytes });
    },
    { lock: true },
  );
}

export function removeDisk(
  core: Core,
  caller: Caller | null,
  vmName: string,
  disk: string,
  opts: { force_root?: boolean },
): Operation {
  assertVmActor(core, caller, vmName);
  const vm = findVmRow(core, vmName);
  refuseRawXml(vm, "remove disks");
  const d = findDisk(core, vm.id, vmName, disk);
  if (d.unit === 0 && !opts.force_root) {
    throw new Conflict(`disk ${disk} is the root disk; delete it only with force_root=true`);
  }
  return core.ops.start(
    "vm.disk.remove",
    vmTarget(vmName),
    async () => {
      await refuseSataHotplug(core, vmName, d, "removed from");
      if (await isRunning(core, vmName)) {
        const xml = buildDiskDeviceXml(diskSpec(core, d), d.unit);
        await core.hv.call("domain.detachDevice", { name: vmName, xml, live: true });
      }
      deleteDisk(core.db, vm.id, d.unit);
      await persist(core, vm.id, vmName);
      if (ownsVolume(vm.id, d)) await deleteOwnVolume(core, await ensureStoragePool(core), d);
      core.events.publish("vm.disk.removed", vmTarget(vmName), { disk });
      return { name: disk };
    },
    { lock: true },
  );
}
