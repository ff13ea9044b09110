// profiles table: named VM recipes (the spec as JSON), from the API or declared in the config file.
import type { Database } from "bun:sqlite";
import type { Origin } from "./sizes.ts";

export interface ProfileRow {
  name: string;
  /** JSON of the profile's spec (every field but the name). */
  spec: string;
  origin: Origin;
}

export function insertProfile(db: Database, r: ProfileRow): void {
  db.query("INSERT INTO profiles (name, spec, origin) VALUES (?, ?, ?)").run(r.name, r.spec, r.origin);
}

/** Creates or overwrites a profile (the config file wins over an API row of the same name). */
export function upsertProfile(db: Database, r: ProfileRow): void {
  db.query(
    `INSERT INTO profiles (name, spec, origin) VALUES (?, ?, ?)
     ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, origin = excluded.origin`,
  ).run(r.name, r.spec, r.origin);
}

export function getProfileRow(db: Database, name: string): ProfileRow | null {
  return db.query("SELECT * FROM profiles WHERE name = ?").get(name) as ProfileRow | null;
}

export function listProfileRows(db: Database, origin?: Origin): ProfileRow[] {
  return db
    .query("SELECT * FROM profiles WHERE (?1 IS NULL OR origin = ?1) ORDER BY name")
    .all(origin ?? null) as ProfileRow[];
}

export function updateProfileSpec(db: Database, name: string, spec: string): void {
  db.query("UPDATE profiles SET spec = ? WHERE name = ?").run(spec, name);
}

export function setProfileOrigin(db: Database, name: string, origin: Origin): void {
  db.query("UPDATE profiles SET origin = ? WHERE name = ?").run(origin, name);
}

export function deleteProfileRow(db: Database, name: string): void {
  db.query("DELETE FROM profiles WHERE name = ?").run(name);
}

const names = (rows: unknown[]) => (rows as { name: string }[]).map((r) => r.name);

/** Profiles whose size is `size` (exact match). */
export function profilesUsingSize(db: Database, size: string): string[] {
  return names(
    db.query("SELECT name FROM profiles WHERE json_extract(spec, '$.size') = ? ORDER BY name").all(size),
  );
}

/** Profiles with a NIC on network `network` (exact match on an element of spec.networks). */
export function profilesUsingNetwork(db: Database, network: string): string[] {
  return names(
    db
      .query(
        `SELECT DISTINCT p.name FROM profiles p, json_each(p.spec, '$.networks') n
         WHERE n.value = ? ORDER BY p.name`,
      )
      .all(network),
  );
}

/** Names of the VMs created from profile `name` (exact match). */
export function vmsUsingProfile(db: Database, name: string): string[] {
  return names(db.query("SELECT name FROM vms WHERE profile = ? ORDER BY name").all(name));
}
