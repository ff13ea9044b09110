// The libvirt definition of a VM, rebuilt from berth's records (berth's database is the source of truth).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { instanceId } from "../../db/host-meta.ts";
import type { DiskRow, NicRow, VmRow } from "../../db/vms.ts";
import { HypervisorUnavailable } from "../../errors.ts";
import { type BootSpec, buildDomainXml, type DiskSpec, type DomainSpec } from "../../xml/domain.ts";
import type { Core } from "../context.ts";
import { findImage } from "../images/index.ts";
import { consoleDir } from "../paths.ts";
import { isRbdDisk, rbdDiskSpec } from "../storage/rbd-volumes.ts";
import { installKernelBoot, installPending } from "./install-boot.ts";
import { type BootConfig, refuseRawXml } from "./records.ts";

export function consoleLogOf(core: Core, vmId: string): string {
  return join(consoleDir(core.config), `${vmId}.log`);
}

function bootSpec(core: Core, boot: BootConfig, vmId: string): BootSpec {
  if (boot.mode === "kernel" && boot.kernel_image) {
    const k = findImage(core, boot.kernel_image);
    return { kind: "kernel", kernel: k.path, initrd: k.initrd_path ?? undefined, cmdline: boot.cmdline };
  }
  if (boot.mode === "network") return installKernelBoot(core, vmId, boot.cmdline);
  return { kind: boot.mode === "iso" ? "cdrom" : "disk" };
}

/** A disk as libvirt gets it; a linked clone names its image, so the backing chain is berth's, never the header's. */
export function diskSpec(core: Core, d: DiskRow): DiskSpec {
  if (isRbdDisk(d)) return rbdDiskSpec(core, d);
  const spec: DiskSpec = {
    path: d.path,
    format: d.format === "raw" ? "raw" : "qcow2",
    device: d.device,
    bus: d.bus,
  };
  if (d.image === null) return spec;
  const image = findImage(core, d.image);
  if (image.path === d.path) return spec;
  return { ...spec, backing: { path: image.path, format: image.format === "qcow2" ? "qcow2" : "raw" } };
}

export function domainXmlFor(core: Core, vm: VmRow, disks: DiskRow[], nics: NicRow[]): string {
  return buildDomainXml(domainSpecFor(core, vm, disks, nics));
}

/** What domainXmlFor serializes: a create sends this to the Worker, which builds the XML off the HTTP thread. */
export function domainSpecFor(core: Core, vm: VmRow, disks: DiskRow[], nics: NicRow[]): DomainSpec {
  refuseRawXml(vm, "change its definition");
  const type = core.domainType();
  if (type === "unknown") throw new HypervisorUnavailable("the hypervisor's domain type is not known yet");
  // Units are fixed per disk, so a gap (a deleted disk) keeps every other disk on its sdX (vdX).
  const ordered = [...disks].sort((a, b) => a.unit - b.unit);
  mkdirSync(consoleDir(core.config), { recursive: true });
  const boot = JSON.parse(vm.boot) as BootConfig;
  return {
    name: vm.name,
    uuid: vm.uuid ?? undefined,
    type,
    vcpus: vm.vcpus,
    memoryMiB: vm.memory_mib,
    boot: bootSpec(core, boot, vm.id),
    ...(installPending(boot) ? { onReboot: "destroy" as const } : {}),
    disks: ordered.map((d) => ({ ...diskSpec(core, d), unit: d.unit })),
    nics: nics.map((n) => ({ kind: "network", network: n.network, mac: n.mac })),
    consoleLog: consoleLogOf(core, vm.id),
    berthId: vm.id,
    berthInstance: instanceId(core.db),
    description: vm.description || undefined,
  };
}
