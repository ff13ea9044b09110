// vm_snapshots table: each snapshot berth took of a VM, with the VM's config at that moment.
import type { Database } from "bun:sqlite";

export interface SnapshotRow {
  vm_id: string;
  name: string;
  description: string;
  /** libvirt's domain state when the snapshot was taken (running, paused, shutoff, …). */
  state: string;
  /** 1 when the snapshot holds the guest's memory (taken while it ran). */
  memory_state: 0 | 1;
  /** JSON of SnapshotConfig (core/vms/snapshots.ts). */
  config: string;
  created_at: string;
}

export function insertSnapshot(db: Database, s: SnapshotRow): void {
  db.query(
    `INSERT INTO vm_snapshots (vm_id, name, description, state, memory_state, config, created_at)
     VALUES ($vm_id, $name, $description, $state, $memory_state, $config, $created_at)`,
  ).run(s as unknown as Record<string, string | number>);
}

/** Newest first; rowid breaks ties between snapshots taken within one millisecond. */
export function snapshotsOf(db: Database, vmId: string): SnapshotRow[] {
  return db
    .query("SELECT * FROM vm_snapshots WHERE vm_id = ? ORDER BY created_at DESC, rowid DESC")
    .all(vmId) as SnapshotRow[];
}

export function snapshotByName(db: Database, vmId: string, name: string): SnapshotRow | null {
  return db
    .query("SELECT * FROM vm_snapshots WHERE vm_id = ? AND name = ?")
    .get(vmId, name) as SnapshotRow | null;
}

export function deleteSnapshot(db: Database, vmId: string, name: string): void {
  db.query("DELETE FROM vm_snapshots WHERE vm_id = ? AND name = ?").run(vmId, name);
}
