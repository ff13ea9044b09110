// The WAL checkpointer Worker: the request connection never checkpoints, and the WAL stays bounded under writes.
import type { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Checkpointer, startCheckpointer } from "../../../src/db/checkpointer.ts";
import { DB_FILE, openDatabase } from "../../../src/db/open.ts";
import { WORKERS } from "../../support/workers.ts";

const MiB = 1024 * 1024;
let db: Database | null = null;
let cp: Checkpointer | null = null;
afterEach(async () => {
  await cp?.stop();
  db?.close();
  cp = null;
  db = null;
});

function open(): { db: Database; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "berth-wal-"));
  const d = openDatabase(dir);
  d.run("CREATE TABLE blob_log (b BLOB NOT NULL) STRICT");
  db = d;
  return { db: d, file: join(dir, DB_FILE) };
}

const walSize = (file: string) => {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
};

/** 40 MiB in transactions of 256 KiB, paced so a Worker gets its turns; the largest WAL seen. */
async function write40MiB(d: Database, file: string): Promise<number> {
  let max = 0;
  const chunk = new Uint8Array(256 * 1024).fill(7);
  for (let i = 0; i < 160; i++) {
    d.transaction(() => {
      d.run("DELETE FROM blob_log");
      d.run("INSERT INTO blob_log (b) VALUES (?)", [chunk]);
    })();
    max = Math.max(max, walSize(file));
    await Bun.sleep(2);
  }
  return max;
}

const autocheckpoint = (d: Database) =>
  (d.query("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint;

test("without checkpoints the WAL grows with every write (what the checkpointer prevents)", async () => {
  const { db: d, file } = open();
  d.run("PRAGMA wal_autocheckpoint = 0");
  expect(await write40MiB(d, file)).toBeGreaterThan(40 * MiB);
});

test("with the checkpointer the request connection never checkpoints and the WAL stays bounded", async () => {
  const { db: d, file } = open();
  cp = await startCheckpointer(d, file, WORKERS.checkpointer, {
    intervalMs: 20,
    truncateBytes: 4 * MiB,
    walLimitBytes: 1 * MiB,
  });
  expect(autocheckpoint(d)).toBe(0);
  const max = await write40MiB(d, file);
  // Bounded far below the 40 MiB written: the bound plus what lands between two passes (~6 MiB here; slack for a busy host).
  expect(max).toBeLessThan(20 * MiB);
  await cp.stop();
  cp = null;
  // The last pass empties the WAL; the connection checkpoints for itself again.
  expect(walSize(file)).toBe(0);
  expect(autocheckpoint(d)).toBe(1000);
  expect((d.query("SELECT count(*) AS n FROM blob_log").get() as { n: number }).n).toBe(1);
});
