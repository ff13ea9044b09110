// Checkout at scale on the test driver: grouped commits never hand a VM out twice, no-op tag writes, the pool cache.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { checkout, checkoutGrouped } from "../../../src/core/pools/checkout.ts";
import { createPool, deletePool, updatePool } from "../../../src/core/pools/pools.ts";
import { findPool } from "../../../src/core/pools/records.ts";
import { groupCommitOf } from "../../../src/db/group-commit.ts";
import { DB_FILE } from "../../../src/db/open.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { vmByName } from "../../../src/db/vms.ts";
import { apiClient } from "../../support/api.ts";
import { cleanup, fill, poolCore } from "./pools-support.ts";

const P = "cksc";
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await poolCore(P, "[scheduler]\nmax_concurrent_creates = 50");
  api = apiClient(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});
const profile = `${P}-tiny`;
const checkedOut = (pool: string) =>
  listMembers(core.db, pool)
    .filter((m) => m.status === "checked_out")
    .map((m) => m.vm_name);

describe("concurrent checkouts", () => {
  test("native and vmpooler checkouts at once, a+b included: grouped commits, no VM twice, short ones take nothing", async () => {
    const [a, b] = [`${P}-a`, `${P}-b`];
    createPool(core, SYSTEM, { name: a, profile, size: 24 });
    createPool(core, SYSTEM, { name: b, profile, size: 8 });
    await fill(core, a, 24);
    await fill(core, b, 8);
    const commits = groupCommitOf(core.db).commits;
    const asks = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? api.post("/v1/checkout", { [a]: 1 })
        : i % 3 === 1
          ? api.post(`/api/v1/vm/${a}+${b}`)
          : api.post("/v1/checkout", { [a]: 2, [b]: 1 }),
    );
    const replies = await Promise.all(asks);
    const names: string[] = [];
    replies.forEach((r, i) => {
      if (r.status !== 200) {
        expect([503, 404]).toContain(r.status);
        return;
      }
      if (i % 3 === 1) names.push(r.body[a].hostname, r.body[b].hostname);
      else names.push(...r.body.vms.map((v: { name: string }) => v.name));
    });
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    // Every VM taken was answered to exactly one caller; a short request took nothing.
    expect([...checkedOut(a), ...checkedOut(b)].sort()).toEqual([...names].sort());
    // 60 requests arrived together: far fewer commits than requests.
    expect(groupCommitOf(core.db).commits - commits).toBeLessThan(replies.length / 2);
    updatePool(core, SYSTEM, a, { size: 0 });
    updatePool(core, SYSTEM, b, { size: 0 });
    for (const n of names) expect((await api.delete(`/v1/vms/${n}?wait=true`)).status).toBe(200);
  });

  test("the grouped core call is all or nothing per request inside a shared batch", async () => {
    const c = `${P}-c`;
    createPool(core, SYSTEM, { name: c, profile, size: 3 });
    await fill(core, c, 3);
    const r = await Promise.allSettled([
      checkoutGrouped(core, { [c]: 2 }),
      checkoutGrouped(core, { [c]: 2 }), // only 1 left: takes nothing
      checkoutGrouped(core, { [c]: 1 }),
    ]);
    expect(r.map((x) => x.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((r[1] as PromiseRejectedResult).reason.errorCode).toBe("pool_empty");
    expect(checkedOut(c).length).toBe(3);
    updatePool(core, SYSTEM, c, { size: 0 });
    for (const n of checkedOut(c)) expect((await api.delete(`/v1/vms/${n}?wait=true`)).status).toBe(200);
  });
});

describe("writes that change nothing", () => {
  test("unchanged tags are not rewritten; new tags and an owner still reach the summary's record", async () => {
    const d = `${P}-d`;
    createPool(core, SYSTEM, { name: d, profile, size: 3 });
    await fill(core, d, 3);
    core.db.run("CREATE TEMP TABLE tag_writes (vm TEXT NOT NULL)");
    core.db.run(
      "CREATE TEMP TRIGGER count_tag_writes AFTER UPDATE OF tags ON main.vms BEGIN INSERT INTO tag_writes VALUES (new.name); END",
    );
    const writes = () =>
      (core.db.query("SELECT vm FROM temp.tag_writes").all() as { vm: string }[]).map((r) => r.vm);
    const tagRows = (vm: string) =>
      core.db.query("SELECT key, value FROM pool_tags WHERE vm_name = ? ORDER BY key").all(vm);
    try {
      const [plain] = checkout(core, { [d]: 1 }).vms;
      const name = plain?.name ?? "";
      expect(writes()).toEqual([]);
      expect(JSON.parse(vmByName(core.db, name)?.tags ?? "")).toEqual({ pool: d });
      expect(vmByName(core.db, name)?.updated_at).toBe(plain?.checked_out_at);
      expect(tagRows(name)).toEqual([]);
      const tagged = checkout(core, { [d]: 1 }, { tags: { job: "7" } }).vms[0]?.name ?? "";
      expect(writes()).toEqual([tagged]);
      expect(tagRows(tagged)).toEqual([{ key: "job", value: "7" }]);
      const owned = checkout(core, { [d]: 1 }, { owner: "alice" }).vms[0]?.name ?? "";
      expect(writes()).toEqual([tagged, owned]);
      expect(tagRows(owned)).toEqual([{ key: "user", value: "alice" }]);
    } finally {
      core.db.run("DROP TRIGGER temp.count_tag_writes");
      core.db.run("DROP TABLE temp.tag_writes");
    }
    updatePool(core, SYSTEM, d, { size: 0 });
    for (const n of checkedOut(d)) expect((await api.delete(`/v1/vms/${n}?wait=true`)).status).toBe(200);
  });
});

describe("pool records cache", () => {
  test("served from memory until a write to pools, from this connection or another, or one rolled back", async () => {
    const e = `${P}-e`;
    createPool(core, SYSTEM, { name: e, profile, size: 2, lifetime: 2 });
    const first = findPool(core, e);
    expect(findPool(core, e)).toBe(first); // nothing changed: the same record, no re-read
    updatePool(core, SYSTEM, e, { lifetime: 3 });
    expect(findPool(core, e).spec.lifetime).toBe(3);
    await fill(core, e, 2);
    // Another connection (a Worker's, an operator's sqlite3) changes the pool: the next checkout sees it.
    const other = new Database(join(core.config.data_dir, DB_FILE), { strict: true });
    try {
      other.run("UPDATE pools SET spec = json_set(spec, '$.lifetime', 5) WHERE name = ?", [e]);
      const [vm] = (await checkoutGrouped(core, { [e]: 1 })).vms;
      expect(vm?.lifetime_hours).toBe(5);
      // A write rolled back leaves the committed record in force, even if it was read meanwhile.
      core.db.run("BEGIN");
      core.db.run("UPDATE pools SET spec = json_set(spec, '$.lifetime', 9) WHERE name = ?", [e]);
      expect(findPool(core, e).spec.lifetime).toBe(9);
      core.db.run("ROLLBACK");
      expect(findPool(core, e).spec.lifetime).toBe(5);
      other.run("DELETE FROM pools WHERE name = ?", [e]);
      expect((await api.post("/v1/checkout", { [e]: 1 })).status).toBe(404);
      expect(() => findPool(core, e)).toThrow("does not exist");
    } finally {
      other.close();
    }
    // The records handed out are shared: nobody may change them.
    createPool(core, SYSTEM, { name: `${P}-f`, profile, size: 0 });
    const f = findPool(core, `${P}-f`);
    expect(() => {
      (f.spec as { lifetime: number }).lifetime = 1;
    }).toThrow();
    deletePool(core, SYSTEM, `${P}-f`);
    expect(() => findPool(core, `${P}-f`)).toThrow("does not exist");
  });
});
