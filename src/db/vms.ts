// vms, vm_disks and vm_nics tables: berth's record of each VM it created.
import type { Database } from "bun:sqlite";
import { DEFAULT_PROJECT } from "../patterns.ts";

/** Every status a VM record has. */
export const VM_STATUSES = [
  "creating",
  "running",
  "stopped",
  "paused",
  "restoring",
  "error",
  "gone",
] as const;
export type VmStatus = (typeof VM_STATUSES)[number];

export interface VmRow {
  id: string;
  name: string;
  uuid: string | null;
  status: VmStatus;
  vcpus: number;
  memory_mib: number;
  profile: string | null;
  image: string | null;
  boot: string;
  description: string;
  tags: string;
  ssh_keys: string;
  created_at: string;
  started_at: string | null;
  stopped_at: string | null;
  updated_at: string;
  /** The user who created it (null: made by berth itself, by an admin with auth off, or a pool's). */
  owner?: string | null;
  /** The project it belongs to (migration 11); "default" when not given. */
  project?: string;
  /** The named size it was made to (migration 13); null when numbers were given or have changed since. */
  size?: string | null;
  /** The fleet host a temporary migration (PVC's migrate) came from (migration 20); null otherwise. */
  last_host?: string | null;
}

export interface DiskRow {
  vm_id: string;
  unit: number;
  name: string;
  volume: string;
  path: string;
  format: string;
  device: "disk" | "cdrom";
  size: number;
  image: string | null;
  /** The bus the guest sees it on (the column's CHECK): target sdX, or vdX on virtio. */
  bus: "scsi" | "virtio" | "sata" | "usb";
}

export interface NicRow {
  vm_id: string;
  idx: number;
  network: string;
  mac: string;
}

export function insertVm(db: Database, vm: VmRow, disks: DiskRow[], nics: NicRow[]): void {
  db.transaction(() => {
    db.query(
      `INSERT INTO vms (id, name, uuid, status, vcpus, memory_mib, profile, image, boot, description, tags, ssh_keys,
         created_at, started_at, stopped_at, updated_at, owner, project, size)
       VALUES ($id, $name, $uuid, $status, $vcpus, $memory_mib, $profile, $image, $boot, $description, $tags, $ssh_keys,
         $created_at, $started_at, $stopped_at, $updated_at, $owner, $project, $size)`,
    ).run({
      ...vm,
      owner: vm.owner ?? null,
      project: vm.project ?? DEFAULT_PROJECT,
      size: vm.size ?? null,
    } as unknown as Record<string, string | number | null>);
    for (const d of disks) insertDisk(db, d);
    for (const n of nics) insertNic(db, n);
  })();
}

function insertNic(db: Database, n: NicRow): void {
  db.query("INSERT INTO vm_nics (vm_id, idx, network, mac) VALUES (?, ?, ?, ?)").run(
    n.vm_id,
    n.idx,
    n.network,
    n.mac,
  );
}

export function insertDisk(db: Database, d: DiskRow): void {
  db.query(
    `INSERT INTO vm_disks (vm_id, unit, name, volume, path, format, device, size, image, bus)
     VALUES ($vm_id, $unit, $name, $volume, $path, $format, $device, $size, $image, $bus)`,
  ).run(d as unknown as Record<string, string | number | null>);
}

/** Replaces a VM's disks and NICs in one transaction (its definition was replaced as a whole). */
export function replaceDevices(db: Database, vmId: string, disks: DiskRow[], nics: NicRow[]): void {
  db.transaction(() => {
    db.query("DELETE FROM vm_disks WHERE vm_id = ?").run(vmId);
    db.query("DELETE FROM vm_nics WHERE vm_id = ?").run(vmId);
    for (const d of disks) insertDisk(db, d);
    for (const n of nics) insertNic(db, n);
  })();
}

export function vmByName(db: Database, name: string): VmRow | null {
  return db.query("SELECT * FROM vms WHERE name = ?").get(name) as VmRow | null;
}

/** What a lifecycle event is checked against: the few columns of the VM named `name` (one indexed read). */
export function vmIdentityByName(
  db: Database,
  name: string,
): Pick<VmRow, "id" | "name" | "uuid" | "status"> | null {
  return db.query("SELECT id, name, uuid, status FROM vms WHERE name = ?").get(name) as Pick<
    VmRow,
    "id" | "name" | "uuid" | "status"
  > | null;
}

export function vmNameTaken(db: Database, name: string): boolean {
  return db.query("SELECT 1 FROM vms WHERE name = ?").get(name) !== null;
}

export interface VmFilter {
  status?: string;
  name?: string;
  /** Exactly this project. */
  project?: string;
}

export function listVms(db: Database, f: VmFilter = {}): VmRow[] {
  return db
    .query(
      `SELECT * FROM vms WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR name = ?2)
         AND (?3 IS NULL OR project = ?3) ORDER BY name`,
    )
    .all(f.status ?? null, f.name ?? null, f.project ?? null) as VmRow[];
}

export function disksOf(db: Database, vmId: string): DiskRow[] {
  return db.query("SELECT * FROM vm_disks WHERE vm_id = ? ORDER BY unit").all(vmId) as DiskRow[];
}

export function nicsOf(db: Database, vmId: string): NicRow[] {
  return db.query("SELECT * FROM vm_nics WHERE vm_id = ? ORDER BY idx").all(vmId) as NicRow[];
}

/** Every disk and NIC row, grouped by VM: two queries for a whole listing instead of two per VM. */
export function devicesByVm(db: Database): { disks: Map<string, DiskRow[]>; nics: Map<string, NicRow[]> } {
  const disks = new Map<string, DiskRow[]>();
  for (const d of db.query("SELECT * FROM vm_disks ORDER BY vm_id, unit").all() as DiskRow[]) {
    disks.set(d.vm_id, [...(disks.get(d.vm_id) ?? []), d]);
  }
  const nics = new Map<string, NicRow[]>();
  for (const n of db.query("SELECT * FROM vm_nics ORDER BY vm_id, idx").all() as NicRow[]) {
    nics.set(n.vm_id, [...(nics.get(n.vm_id) ?? []), n]);
  }
  return { disks, nics };
}

const UPDATABLE = new Set([
  "uuid",
  "status",
  "vcpus",
  "memory_mib",
  "boot",
  "description",
  "tags",
  "ssh_keys",
  "started_at",
  "stopped_at",
  "updated_at",
  "project",
]);

/** Sets a VM's vCPUs and memory; its size name goes when they are no longer what that size gave. */
export function setVmShape(db: Database, id: string, vcpus: number, memoryMib: number, at: string): void {
  db.query(
    `UPDATE vms SET size = CASE WHEN vcpus = ?2 AND memory_mib = ?3 THEN size END,
       vcpus = ?2, memory_mib = ?3, updated_at = ?4 WHERE id = ?1`,
  ).run(id, vcpus, memoryMib, at);
}

export function updateVm(db: Database, id: string, fields: Partial<Omit<VmRow, "id">>): void {
  const keys = Object.keys(fields);
  for (const k of keys) if (!UPDATABLE.has(k)) throw new Error(`vms.${k} is not an updatable column`);
  if (keys.length === 0) return;
  const set = keys.map((k) => `${k} = $${k}`).join(", ");
  db.query(`UPDATE vms SET ${set} WHERE id = $id`).run({ ...fields, id } as Record<
    string,
    string | number | null
  >);
}

export function deleteVm(db: Database, id: string): void {
  db.query("DELETE FROM vms WHERE id = ?").run(id);
}

export function updateDiskSize(db: Database, vmId: string, unit: number, size: number): void {
  db.query("UPDATE vm_disks SET size = ? WHERE vm_id = ? AND unit = ?").run(size, vmId, unit);
}

export function deleteDisk(db: Database, vmId: string, unit: number): void {
  db.query("DELETE FROM vm_disks WHERE vm_id = ? AND unit = ?").run(vmId, unit);
}
