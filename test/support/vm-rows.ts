// A vms row written straight into a test's database: a VM berth records, without libvirt, for access and quota tests.
import type { Database } from "bun:sqlite";

export interface VmRowSpec {
  id: string;
  name: string;
  owner?: string | null;
  status?: string;
  vcpus?: number;
  memory_mib?: number;
  /** A root disk of this many bytes (none when absent). */
  diskBytes?: number;
  /** Its project (the column's default, "default", when absent). */
  project?: string;
}

export function insertVmRow(db: Database, v: VmRowSpec): void {
  const at = new Date().toISOString();
  db.query(
    `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, description, tags, ssh_keys, created_at, updated_at, owner)
     VALUES (?, ?, ?, ?, ?, '{"mode":"disk"}', '', '{}', '[]', ?, ?, ?)`,
  ).run(v.id, v.name, v.status ?? "running", v.vcpus ?? 1, v.memory_mib ?? 64, at, at, v.owner ?? null);
  if (v.project !== undefined) db.query("UPDATE vms SET project = ? WHERE id = ?").run(v.project, v.id);
  if (v.diskBytes !== undefined)
    db.query(
      "INSERT INTO vm_disks (vm_id, unit, name, volume, path, format, device, size) VALUES (?, 0, 'root', ?, ?, 'qcow2', 'disk', ?)",
    ).run(v.id, `${v.name}.qcow2`, `/nonexistent/${v.name}.qcow2`, v.diskBytes);
}
