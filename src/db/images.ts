// images table: base disks, ISOs and kernel+initrd pairs, and who refers to an image by name.
import type { Database } from "bun:sqlite";

export type ImageKind = "disk" | "iso" | "kernel";
export type ImageStatus = "importing" | "ready" | "failed";

export interface ImageRow {
  id: string;
  name: string;
  kind: ImageKind;
  /** "" while importing: the format is known once the bytes are in. */
  format: string;
  /** "" while importing. */
  volume: string;
  initrd_volume: string | null;
  source: string;
  sha256: string | null;
  virtual_size: number;
  allocated_size: number;
  status: ImageStatus;
  created_at: string;
}

export function insertImage(
  db: Database,
  row: Pick<ImageRow, "id" | "name" | "kind" | "source" | "created_at">,
): void {
  db.query(
    `INSERT INTO images (id, name, kind, format, volume, source, status, created_at)
     VALUES (?, ?, ?, '', '', ?, 'importing', ?)`,
  ).run(row.id, row.name, row.kind, row.source, row.created_at);
}

export function imageByName(db: Database, name: string): ImageRow | null {
  return db.query("SELECT * FROM images WHERE name = ?").get(name) as ImageRow | null;
}

export function imageById(db: Database, id: string): ImageRow | null {
  return db.query("SELECT * FROM images WHERE id = ?").get(id) as ImageRow | null;
}

export function listImages(
  db: Database,
  filter: { kind?: ImageKind; status?: ImageStatus } = {},
): ImageRow[] {
  return db
    .query(
      "SELECT * FROM images WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR status = ?2) ORDER BY name",
    )
    .all(filter.kind ?? null, filter.status ?? null) as ImageRow[];
}

export function markImageReady(
  db: Database,
  id: string,
  f: Pick<ImageRow, "format" | "volume" | "initrd_volume" | "sha256" | "virtual_size" | "allocated_size">,
): void {
  db.query(
    `UPDATE images SET status = 'ready', format = ?, volume = ?, initrd_volume = ?, sha256 = ?,
       virtual_size = ?, allocated_size = ? WHERE id = ?`,
  ).run(f.format, f.volume, f.initrd_volume, f.sha256, f.virtual_size, f.allocated_size, id);
}

/** Returns false when another image already has `to`. */
export function renameImage(db: Database, id: string, to: string): boolean {
  if (db.query("SELECT 1 FROM images WHERE name = ?").get(to)) return false;
  db.query("UPDATE images SET name = ? WHERE id = ?").run(to, id);
  return true;
}

export function deleteImage(db: Database, id: string): void {
  db.query("DELETE FROM images WHERE id = ?").run(id);
}

/** A VM whose row, one of whose disks, names the image (exact match). */
export function vmUsingImageColumn(db: Database, name: string): string | null {
  const row = db
    .query(
      `SELECT name FROM vms WHERE image = ?1
       UNION ALL SELECT v.name FROM vm_disks d JOIN vms v ON v.id = d.vm_id WHERE d.image = ?1
       LIMIT 1`,
    )
    .get(name) as { name: string } | null;
  return row?.name ?? null;
}

/** Every VM's boot settings (JSON), which may name a kernel or ISO image. */
export function vmBootSpecs(db: Database): { name: string; boot: string }[] {
  return db.query("SELECT name, boot FROM vms ORDER BY name").all() as { name: string; boot: string }[];
}

/** Every profile's spec (JSON), which may name images. */
export function profileSpecs(db: Database): { name: string; spec: string }[] {
  return db.query("SELECT name, spec FROM profiles ORDER BY name").all() as { name: string; spec: string }[];
}
