// sizes table: named vCPU+memory shapes, from the API or declared in the config file.
import type { Database } from "bun:sqlite";

export type Origin = "api" | "config";

export interface SizeRow {
  name: string;
  vcpus: number;
  memory_mib: number;
  origin: Origin;
}

export function insertSize(db: Database, r: SizeRow): void {
  db.query("INSERT INTO sizes (name, vcpus, memory_mib, origin) VALUES (?, ?, ?, ?)").run(
    r.name,
    r.vcpus,
    r.memory_mib,
    r.origin,
  );
}

/** Creates or overwrites a size (the config file wins over an API row of the same name). */
export function upsertSize(db: Database, r: SizeRow): void {
  db.query(
    `INSERT INTO sizes (name, vcpus, memory_mib, origin) VALUES (?, ?, ?, ?)
     ON CONFLICT(name) DO UPDATE SET vcpus = excluded.vcpus, memory_mib = excluded.memory_mib,
       origin = excluded.origin`,
  ).run(r.name, r.vcpus, r.memory_mib, r.origin);
}

export function getSizeRow(db: Database, name: string): SizeRow | null {
  return db.query("SELECT * FROM sizes WHERE name = ?").get(name) as SizeRow | null;
}

export function listSizeRows(db: Database, origin?: Origin): SizeRow[] {
  return db
    .query("SELECT * FROM sizes WHERE (?1 IS NULL OR origin = ?1) ORDER BY name")
    .all(origin ?? null) as SizeRow[];
}

export function setSizeOrigin(db: Database, name: string, origin: Origin): void {
  db.query("UPDATE sizes SET origin = ? WHERE name = ?").run(origin, name);
}

export function deleteSizeRow(db: Database, name: string): void {
  db.query("DELETE FROM sizes WHERE name = ?").run(name);
}
