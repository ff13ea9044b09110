// Turns a create request (and the profile it names) into a complete VM plan, validating every reference.

import { join } from "node:path";
import type { DiskRow, NicRow, VmRow } from "../../db/vms.ts";
import { vmNameTaken } from "../../db/vms.ts";
import { BadRequest, Conflict } from "../../errors.ts";
import type { DiskBus } from "../../xml/domain.ts";
import { checkDiskSize, type VmNeed } from "../capacity.ts";
import type { Core } from "../context.ts";
import { findImage, type ImageRecord } from "../images/index.ts";
import { checkName, generateName, newId } from "../names.ts";
import { findNetwork } from "../networks/index.ts";
import { poolDir } from "../paths.ts";
import { findProfile } from "../profiles.ts";
import { findSize } from "../sizes.ts";
import { onRbd } from "../storage/rbd-volumes.ts";
import { now } from "../time.ts";
import { type ConfigDrivePlan, planConfigDrive } from "./cloud-init.ts";
import { checkInstall, type InstallRequest } from "./install.ts";
import { INSTALL_DISK } from "./install-boot.ts";
import type { BootConfig } from "./records.ts";

const GiB = 1024 ** 3;
export const DEFAULT_ROOT_GB = 10;
export const MAX_DISKS = 16;
export const MAX_NICS = 8;

export interface DiskRequest {
  name?: string;
  size_gb?: number;
  image?: string;
  media?: "disk" | "cdrom";
  /** Default scsi. */
  bus?: DiskBus;
}

export interface CreateVmRequest {
  name?: string;
  profile?: string;
  image?: string;
  size?: string;
  cpus?: number;
  memory_mib?: number;
  root_disk_gb?: number;
  /** The root disk's bus; default the profile's, else scsi. */
  root_disk_bus?: DiskBus;
  disks?: DiskRequest[];
  networks?: string[];
  start?: boolean;
  /** [fleet]: the host to create it on (a forwarded create arrives at that host); a single host takes none. */
  host?: string;
  /** [fleet]: how to choose the host when none is named (placement happens before the create reaches core). */
  selector?: "mem" | "vcpus" | "load" | "vms";
  ssh_keys?: string[];
  user_data?: string;
  /** A network install from an install tree; overrides the profile's boot. */
  install?: InstallRequest;
  tags?: Record<string, string>;
  description?: string;
  /** The project it belongs to; default "default". */
  project?: string;
}

/** One volume to create: blank, or a qcow2 overlay whose backing file is an image. */
export interface VolumePlan {
  disk: DiskRow;
  backing: { path: string; format: "qcow2" | "raw" } | null;
  /** An ISO attached as-is (the image's own volume, read-only): nothing to create. */
  shared: boolean;
}

export interface VmPlan {
  row: VmRow;
  volumes: VolumePlan[];
  nics: NicRow[];
  boot: BootConfig;
  kernel: { kernel: string; initrd: string | null; cmdline: string } | null;
  /** The cloud-init config drive, when the VM has ssh keys or user-data. */
  cidata: ConfigDrivePlan | null;
  start: boolean;
}

/** Every disk row the plan records: its volumes, then the config drive. */
export function planDisks(plan: VmPlan): DiskRow[] {
  return [...plan.volumes.map((v) => v.disk), ...(plan.cidata ? [plan.cidata.disk] : [])];
}

/** What the VM takes from the host: its vCPUs, memory, and the virtual sizes of the volumes it creates. */
export function planNeed(plan: VmPlan): VmNeed {
  const disk_bytes = plan.volumes.reduce((sum, v) => sum + (v.shared ? 0 : v.disk.size), 0);
  return { vcpus: plan.row.vcpus, memory_mib: plan.row.memory_mib, disk_bytes };
}

export function randomMac(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `52:54:00:${[...b].map((x) => x.toString(16).padStart(2, "0")).join(":")}`;
}

function uniqueName(core: Core, requested: string | undefined): string {
  if (requested !== undefined) {
    checkName("vm", requested);
    if (vmNameTaken(core.db, requested)) throw new Conflict(`vm ${requested} already exists`);
    return requested;
  }
  for (;;) {
    const n = generateName("vm");
    if (!vmNameTaken(core.db, n)) return n;
  }
}

function diskImage(core: Core, name: string, want: "disk" | "iso"): ImageRecord {
  const img = findImage(core, name);
  if (img.kind !== want) throw new BadRequest(`image ${name} is a ${img.kind} image, not a ${want} image`);
  return img;
}

/** A volume planned at `unit` (its target letter: sda/vda = 0) for VM `vmId`. */
export function planVolume(
  core: Core,
  vmId: string,
  unit: number,
  d: DiskRequest & { name: string },
): VolumePlan {
  const media = d.media ?? "disk";
  const bus = d.bus ?? "scsi";
  if (media === "cdrom") {
    if (!d.image) throw new BadRequest(`disk ${d.name}: a cdrom needs an iso image`);
    if (bus === "virtio")
      throw new BadRequest(`disk ${d.name}: a cdrom cannot be on bus virtio (scsi, sata or usb)`);
    const iso = diskImage(core, d.image, "iso");
    return {
      disk: {
        vm_id: vmId,
        unit,
        name: d.name,
        volume: iso.volume,
        path: iso.path,
        format: "raw",
        device: "cdrom",
        size: iso.virtual_size,
        image: iso.name,
        bus,
      },
      backing: null,
      shared: true,
    };
  }
  const volume = `vm-${vmId}-${unit}.qcow2`;
  const own = (size: number, image: string | null): DiskRow => {
    checkDiskSize(core, `disk ${d.name}`, size);
    return {
      vm_id: vmId,
      unit,
      name: d.name,
      volume,
      path: join(poolDir(core.config), volume),
      format: "qcow2",
      device: "disk",
      size,
      image,
      bus,
    };
  };
  if (d.image) {
    const img = diskImage(core, d.image, "disk");
    return onRbd(core, {
      disk: own(Math.max(img.virtual_size, (d.size_gb ?? 0) * GiB), img.name),
      backing: { path: img.path, format: img.format === "qcow2" ? "qcow2" : "raw" },
      shared: false,
    });
  }
  if (!d.size_gb) throw new BadRequest(`disk ${d.name}: give size_gb or an image`);
  return onRbd(core, { disk: own(d.size_gb * GiB, null), backing: null, shared: false });
}

export function planVm(core: Core, req: CreateVmRequest): VmPlan {
  const profile = req.profile ? findProfile(core, req.profile) : null;
  const spec = profile?.spec ?? {};
  const name = uniqueName(core, req.name);
  const id = newId();

  // Most specific first: the request's numbers, its size, the profile's numbers, the profile's size.
  const reqSize = req.size ? findSize(core, req.size) : null;
  const profileSize = spec.size ? findSize(core, spec.size) : null;
  const vcpus = req.cpus ?? reqSize?.vcpus ?? spec.cpus ?? profileSize?.vcpus;
  const memory = req.memory_mib ?? reqSize?.memory_mib ?? spec.memory_mib ?? profileSize?.memory_mib;
  if (vcpus === undefined || memory === undefined) {
    throw new BadRequest("give cpus and memory_mib, a size, or a profile that has them");
  }
  // The named size it is made to, unless numbers given beside it decided instead.
  const ownNumbers = req.cpus !== undefined || req.memory_mib !== undefined;
  const profileNumbers = spec.cpus !== undefined || spec.memory_mib !== undefined;
  const sizeName = ownNumbers
    ? null
    : (reqSize?.name ?? (profileNumbers ? null : (profileSize?.name ?? null)));

  const imageName = req.image ?? spec.image ?? null;
  const rootGb = req.root_disk_gb ?? spec.root_disk_gb;
  const rootBus = req.root_disk_bus ?? spec.root_disk_bus;
  const wanted: (DiskRequest & { name: string })[] = [
    imageName
      ? { name: "root", image: imageName, size_gb: rootGb, bus: rootBus }
      : { name: "root", size_gb: rootGb ?? DEFAULT_ROOT_GB, bus: rootBus },
    ...(req.disks ?? spec.disks ?? []).map((d, i) => ({ ...d, name: d.name ?? `disk${i + 1}` })),
  ];
  if (wanted.length > MAX_DISKS) throw new BadRequest(`a vm has at most ${MAX_DISKS} disks`);
  const seen = new Set<string>();
  for (const d of wanted) {
    checkName("disk", d.name);
    if (seen.has(d.name)) throw new BadRequest(`disk name ${d.name} is used twice`);
    seen.add(d.name);
  }

  const asked = req.install
    ? { mode: "network" as const, ...req.install }
    : (spec.boot ?? { mode: "disk" as const });
  if (asked.mode === "network") checkInstall(asked);
  const boot: BootConfig = {
    mode: asked.mode,
    ...(asked.kernel_image ? { kernel_image: asked.kernel_image } : {}),
    ...(asked.cmdline ? { cmdline: asked.cmdline } : {}),
    ...(asked.iso_image ? { iso_image: asked.iso_image } : {}),
    ...(asked.location ? { location: asked.location } : {}),
  };
  if (boot.mode === "iso") {
    if (!boot.iso_image) throw new BadRequest("boot mode iso needs iso_image");
    wanted.push({ name: INSTALL_DISK, image: boot.iso_image, media: "cdrom" });
  }
  let kernel: VmPlan["kernel"] = null;
  if (boot.mode === "kernel") {
    if (!boot.kernel_image) throw new BadRequest("boot mode kernel needs kernel_image");
    const k = findImage(core, boot.kernel_image);
    if (k.kind !== "kernel") throw new BadRequest(`image ${k.name} is not a kernel image`);
    kernel = { kernel: k.path, initrd: k.initrd_path, cmdline: boot.cmdline ?? "" };
  }

  const volumes = wanted.map((d, unit) => planVolume(core, id, unit, d));
  const sshKeys = req.ssh_keys ?? spec.ssh_keys ?? [];
  const cidata = planConfigDrive(core, {
    vmId: id,
    name,
    unit: wanted.length,
    sshKeys,
    userData: req.user_data ?? spec.user_data,
    diskNames: wanted.map((d) => d.name),
  });
  const networks = req.networks ?? spec.networks ?? [];
  if (networks.length > MAX_NICS) throw new BadRequest(`a vm has at most ${MAX_NICS} nics`);
  const nics = networks.map((n, idx) => ({
    vm_id: id,
    idx,
    network: findNetwork(core, n).name,
    mac: randomMac(),
  }));

  const at = now();
  return {
    row: {
      id,
      name,
      uuid: null,
      status: "creating",
      vcpus,
      memory_mib: memory,
      profile: profile?.name ?? null,
      size: sizeName,
      image: imageName,
      boot: JSON.stringify(boot),
      description: req.description ?? "",
      tags: JSON.stringify(req.tags ?? {}),
      ssh_keys: JSON.stringify(sshKeys),
      created_at: at,
      started_at: null,
      stopped_at: null,
      updated_at: at,
    },
    volumes,
    nics,
    boot,
    kernel,
    cidata,
    start: req.start ?? true,
  };
}
