// Opens berth's SQLite database (WAL, busy timeout, foreign keys) and brings its schema up to date.
import { Database } from "bun:sqlite";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseError } from "../errors.ts";
import { LATEST_SCHEMA, MIGRATIONS, type Migration } from "./migrations.ts";

export const DB_FILE = "berth.db";

export interface OpenOptions {
  /** Defaults to the shipped list; tests pass longer lists to exercise upgrades. */
  migrations?: readonly Migration[];
  busyTimeoutMs?: number;
}

/** Opens `<dataDir>/berth.db`, or an in-memory database for ":memory:". */
export function openDatabase(dataDir: string, opts: OpenOptions = {}): Database {
  let path = ":memory:";
  if (dataDir !== ":memory:") {
    // Traversable, not listable: QEMU reaches VM disks in the pool below it; the database file stays 0600.
    mkdirSync(dataDir, { recursive: true, mode: 0o711 });
    path = join(dataDir, DB_FILE);
  }
  let db: Database;
  try {
    db = new Database(path, { create: true, strict: true });
    if (path !== ":memory:") chmodSync(path, 0o600);
  } catch (cause) {
    throw new DatabaseError(`cannot open database ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    db.run(`PRAGMA busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
    db.run("PRAGMA journal_mode = WAL");
    // NORMAL under WAL survives a process crash; only the last commit can be lost on power loss.
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA foreign_keys = ON");
    migrate(db, opts.migrations ?? MIGRATIONS);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

export function schemaVersion(db: Database): number {
  return (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
}

/** Applies each pending migration in its own transaction, recording the version in user_version. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new DatabaseError(`migration ${m.name} is numbered ${m.version}, expected ${i + 1}`);
  });
  const current = schemaVersion(db);
  const known = migrations.length;
  if (current > known) {
    throw new DatabaseError(
      `database schema version ${current} is newer than this berth knows (${known}); ` +
        "run the berth release that created it, or restore a backup",
    );
  }
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      db.run(m.sql);
      db.run(`PRAGMA user_version = ${m.version}`);
    })();
  }
  return schemaVersion(db);
}

export { LATEST_SCHEMA };
