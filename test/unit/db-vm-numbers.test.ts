// VM numbers (migration 12): existing VMs are numbered from 0 in creation order, new ones next, and a number is never reused.
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MIGRATIONS } from "../../src/db/migrations.ts";
import { openDatabase } from "../../src/db/open.ts";

const insert = (db: ReturnType<typeof openDatabase>, id: string, created: string) =>
  db
    .query(
      "INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at) VALUES (?, ?, 'stopped', 1, 64, 'disk', ?, ?)",
    )
    .run(id, `n-${id}`, created, created);

const numbers = (db: ReturnType<typeof openDatabase>) =>
  db.query("SELECT vm_id, num FROM vm_numbers ORDER BY num").all();

test("an upgraded database numbers its VMs by age from 0; later VMs continue, deleted numbers stay unused", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-num-"));
  const before = openDatabase(dir, { migrations: MIGRATIONS.slice(0, 11) });
  insert(before, "late", "2026-02-01T00:00:00Z");
  insert(before, "early", "2026-01-01T00:00:00Z");
  before.close();
  const db = openDatabase(dir);
  expect(numbers(db)).toEqual([
    { vm_id: "early", num: 0 },
    { vm_id: "late", num: 1 },
  ]);
  insert(db, "third", "2026-03-01T00:00:00Z");
  db.query("DELETE FROM vms WHERE id = 'third'").run();
  insert(db, "fourth", "2026-04-01T00:00:00Z");
  expect(numbers(db)).toEqual([
    { vm_id: "early", num: 0 },
    { vm_id: "late", num: 1 },
    { vm_id: "fourth", num: 3 },
  ]);
  db.close();
});
