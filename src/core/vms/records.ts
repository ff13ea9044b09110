// How a VM is looked up and presented: the database row joined with its disks, NICs and live state.
import { type DiskRow, disksOf, type NicRow, nicsOf, type VmRow, vmByName } from "../../db/vms.ts";
import { NotFound } from "../../errors.ts";
import { scsiTarget } from "../../xml/domain.ts";
import type { Core } from "../context.ts";

export interface VmDisk {
  name: string;
  target: string;
  device: "disk" | "cdrom";
  format: string;
  size: number;
  volume: string;
  path: string;
  image: string | null;
}

export interface VmNic {
  network: string;
  mac: string;
}

export interface BootConfig {
  mode: "disk" | "kernel" | "iso";
  kernel_image?: string;
  cmdline?: string;
  iso_image?: string;
}

export interface Vm {
  id: string;
  name: string;
  uuid: string | null;
  /** berth's view (creating, running, stopped, paused, error, gone), kept in step with libvirt. */
  status: VmRow["status"];
  vcpus: number;
  memory_mib: number;
  profile: string | null;
  image: string | null;
  boot: BootConfig;
  description: string;
  tags: Record<string, string>;
  ssh_keys: string[];
  disks: VmDisk[];
  nics: VmNic[];
  created_at: string;
  started_at: string | null;
  stopped_at: string | null;
  updated_at: string;
}

export function diskView(d: DiskRow): VmDisk {
  return {
    name: d.name,
    target: scsiTarget(d.unit),
    device: d.device,
    format: d.format,
    size: d.size,
    volume: d.volume,
    path: d.path,
    image: d.image,
  };
}

export function present(row: VmRow, disks: DiskRow[], nics: NicRow[]): Vm {
  return {
    id: row.id,
    name: row.name,
    uuid: row.uuid,
    status: row.status,
    vcpus: row.vcpus,
    memory_mib: row.memory_mib,
    profile: row.profile,
    image: row.image,
    boot: JSON.parse(row.boot) as BootConfig,
    description: row.description,
    tags: JSON.parse(row.tags) as Record<string, string>,
    ssh_keys: JSON.parse(row.ssh_keys) as string[],
    disks: disks.map(diskView),
    nics: nics.map((n) => ({ network: n.network, mac: n.mac })),
    created_at: row.created_at,
    started_at: row.started_at,
    stopped_at: row.stopped_at,
    updated_at: row.updated_at,
  };
}

/** The VM's row, or 404. VMs marked gone are still found (so they can be deleted). */
export function findVmRow(core: Core, name: string): VmRow {
  const row = vmByName(core.db, name);
  if (!row) throw new NotFound(`vm ${name} does not exist`);
  return row;
}

export function loadVm(core: Core, name: string): Vm {
  const row = findVmRow(core, name);
  return present(row, disksOf(core.db, row.id), nicsOf(core.db, row.id));
}

export const vmTarget = (name: string) => `vm/${name}`;
