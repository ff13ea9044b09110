// SQLite store: WAL, migrations applied once and in order, a newer schema refused clearly.
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getMeta, setMeta } from "../../src/db/host-meta.ts";
import { MIGRATIONS } from "../../src/db/migrations.ts";
import { LATEST_SCHEMA, migrate, openDatabase, schemaVersion } from "../../src/db/open.ts";
import { DatabaseError } from "../../src/errors.ts";

const tempDir = () => mkdtempSync(join(tmpdir(), "berth-db-"));

test("a new database is in WAL mode at the latest schema", () => {
  const db = openDatabase(tempDir());
  expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
  expect((db.query("PRAGMA busy_timeout").get() as { timeout: number }).timeout).toBe(5000);
  expect(schemaVersion(db)).toBe(LATEST_SCHEMA);
  db.close();
});

test("reopening applies nothing twice and keeps data", () => {
  const dir = tempDir();
  const a = openDatabase(dir);
  setMeta(a, "k", "v1");
  setMeta(a, "k", "v2");
  a.close();
  const b = openDatabase(dir);
  expect(getMeta(b, "k")).toBe("v2");
  expect(schemaVersion(b)).toBe(LATEST_SCHEMA);
  b.close();
});

test("a later migration upgrades an existing database in order", () => {
  const dir = tempDir();
  openDatabase(dir).close();
  const next = [
    ...MIGRATIONS,
    { version: LATEST_SCHEMA + 1, name: "extra", sql: "CREATE TABLE extra (x INTEGER) STRICT" },
  ];
  const db = openDatabase(dir, { migrations: next });
  expect(schemaVersion(db)).toBe(LATEST_SCHEMA + 1);
  expect(db.query("SELECT name FROM sqlite_master WHERE name = 'extra'").get()).toEqual({ name: "extra" });
  db.close();
});

test("a schema newer than this binary knows is a clear error", () => {
  const dir = tempDir();
  const next = [
    ...MIGRATIONS,
    { version: LATEST_SCHEMA + 1, name: "future", sql: "CREATE TABLE f (x INTEGER)" },
  ];
  openDatabase(dir, { migrations: next }).close();
  expect(() => openDatabase(dir)).toThrow(DatabaseError);
  expect(() => openDatabase(dir)).toThrow(/schema version \d+ is newer than this berth knows/);
});

test("a failing migration rolls back and leaves the version unchanged", () => {
  const db = openDatabase(":memory:");
  const bad = [
    ...MIGRATIONS,
    { version: LATEST_SCHEMA + 1, name: "broken", sql: "CREATE TABLE ok1 (x); NOT SQL" },
  ];
  expect(() => migrate(db, bad)).toThrow();
  expect(schemaVersion(db)).toBe(LATEST_SCHEMA);
  expect(db.query("SELECT name FROM sqlite_master WHERE name = 'ok1'").get()).toBeNull();
  db.close();
});

test("misnumbered migrations are refused", () => {
  const db = openDatabase(":memory:");
  expect(() => migrate(db, [{ version: 2, name: "gap", sql: "SELECT 1" }])).toThrow(/numbered 2, expected 1/);
  db.close();
});
