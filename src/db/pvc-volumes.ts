// pvc_volumes table: volumes made through PVC's storage API (migration 14), by pool and name, with their libvirt volume and owner.
import type { Database } from "bun:sqlite";

export interface PvcVolumeRow {
  /** berth's storage pool (PVC's "pool"). */
  pool: string;
  /** The name PVC's client gave it. */
  name: string;
  /** The libvirt volume (its file name in the pool). */
  volume: string;
  /** Virtual size in bytes, as libvirt made it. */
  size: number;
  /** The user who made it; null with auth off or for berth itself. */
  owner: string | null;
  created_at: string;
}

export function insertPvcVolume(db: Database, row: PvcVolumeRow): void {
  db.query(
    `INSERT INTO pvc_volumes (pool, name, volume, size, owner, created_at)
     VALUES ($pool, $name, $volume, $size, $owner, $created_at)`,
  ).run(row as unknown as Record<string, string | number | null>);
}

export function pvcVolume(db: Database, pool: string, name: string): PvcVolumeRow | null {
  return db
    .query("SELECT * FROM pvc_volumes WHERE pool = ? AND name = ?")
    .get(pool, name) as PvcVolumeRow | null;
}

/** Every volume, or only those `owner` holds; by pool, then name. */
export function pvcVolumes(db: Database, owner?: string): PvcVolumeRow[] {
  if (owner === undefined) {
    return db.query("SELECT * FROM pvc_volumes ORDER BY pool, name").all() as PvcVolumeRow[];
  }
  return db
    .query("SELECT * FROM pvc_volumes WHERE owner = ? ORDER BY pool, name")
    .all(owner) as PvcVolumeRow[];
}

export function setPvcVolumeSize(db: Database, pool: string, name: string, size: number): void {
  db.query("UPDATE pvc_volumes SET size = ? WHERE pool = ? AND name = ?").run(size, pool, name);
}

export function deletePvcVolume(db: Database, pool: string, name: string): void {
  db.query("DELETE FROM pvc_volumes WHERE pool = ? AND name = ?").run(pool, name);
}

/** The VMs (any status) with a disk on libvirt volume `volume`: a PVC volume an admin's raw XML attached. */
export function vmsUsingVolume(db: Database, volume: string): string[] {
  const rows = db
    .query(
      "SELECT DISTINCT v.name AS name FROM vm_disks d JOIN vms v ON v.id = d.vm_id WHERE d.volume = ? ORDER BY v.name",
    )
    .all(volume) as { name: string }[];
  return rows.map((r) => r.name);
}
