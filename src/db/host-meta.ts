// host_meta: small key/value facts about this berth installation (first start, last hypervisor URI).
import type { Database } from "bun:sqlite";

export function getMeta(db: Database, key: string): string | null {
  const row = db.query("SELECT value FROM host_meta WHERE key = ?").get(key) as { value: string } | null;
  return row?.value ?? null;
}

export function setMeta(db: Database, key: string, value: string): void {
  db.query(
    "INSERT INTO host_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  ).run(key, value);
}

const instanceIds = new WeakMap<Database, string>();

/**
 * This installation's random id, made on first use: berth writes it into every domain's metadata, so
 * two berths on one libvirtd (or a test's berth next to the installed one) never take each other's
 * domains for orphans. Read once per database: hot paths (every domain XML, every reconcile pass) never write.
 */
export function instanceId(db: Database): string {
  const cached = instanceIds.get(db);
  if (cached) return cached;
  let id = getMeta(db, "instance_id");
  if (!id) {
    db.query("INSERT OR IGNORE INTO host_meta (key, value) VALUES ('instance_id', ?)").run(
      crypto.randomUUID(),
    );
    id = getMeta(db, "instance_id") as string;
  }
  instanceIds.set(db, id);
  return id;
}

/** The event ids reserved so far (src/core/events.ts), kept so ids grow across restarts. */
export function eventIdStore(db: Database): { reserved(): number; reserve(upTo: number): void } {
  return {
    reserved: () => Number(getMeta(db, "event_id_reserved") ?? 0),
    reserve: (upTo) => setMeta(db, "event_id_reserved", String(upTo)),
  };
}

/** A cheap read proving the database answers (used by /healthz). */
export function pingDatabase(db: Database): void {
  db.query("SELECT 1").get();
}
