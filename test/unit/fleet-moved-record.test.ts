// A migrated VM's record, as one host sends it and another inserts it: row, disks, NICs and pool membership with its checkout and lifetime.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { insertMoved, type MovedRecord, recordOf } from "../../src/core/fleet/moved-record.ts";
import { checkOutMember, getMember, insertMember, setMemberVmId } from "../../src/db/pools.ts";
import { disksOf, nicsOf, vmByName } from "../../src/db/vms.ts";
import { apiClient } from "../support/api.ts";
import { testCore } from "../support/core.ts";

let source: Awaited<ReturnType<typeof testCore>>;
let dest: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  [source, dest] = await Promise.all([testCore(), testCore()]);
  const made = await apiClient(source).post("/v1/vms?wait=true", {
    name: "mv1",
    cpus: 1,
    memory_mib: 64,
    root_disk_gb: 1,
    start: false,
    tags: { team: "blue" },
    description: "moving",
  });
  expect(made.status).toBe(200);
});
afterAll(async () => {
  await source.close();
  await dest.close();
});

test("the record and its pool membership (owner, lifetime, expiry) arrive as they left; a second insert changes nothing", () => {
  const row = vmByName(source.db, "mv1");
  if (!row) throw new Error("no row");
  insertMember(source.db, { vm_name: "mv1", pool: "p", generation: 3, created_at: row.created_at });
  setMemberVmId(source.db, "mv1", row.id);
  source.db.query("UPDATE pool_vms SET status = 'ready' WHERE vm_name = 'mv1'").run();
  const out = {
    checked_out_at: "2026-12-05T00:00:00Z",
    owner: "alice",
    lifetime_hours: 4,
    expires_at: "2026-12-05T04:00:00Z",
  };
  expect(checkOutMember(source.db, "mv1", out)).toBe(true);
  // Sent as JSON between hosts.
  const sent = JSON.parse(JSON.stringify(recordOf(source.db, row, "<domain/>"))) as MovedRecord;
  insertMoved(dest.db, sent);
  insertMoved(dest.db, sent);
  const arrived = vmByName(dest.db, "mv1");
  expect(arrived).toEqual(row);
  expect(disksOf(dest.db, row.id)).toEqual(disksOf(source.db, row.id));
  expect(nicsOf(dest.db, row.id)).toEqual(nicsOf(source.db, row.id));
  expect(getMember(dest.db, "mv1")).toEqual(getMember(source.db, "mv1"));
  expect(getMember(dest.db, "mv1")).toMatchObject({
    status: "checked_out",
    ...out,
    pool: "p",
    generation: 3,
  });
});
