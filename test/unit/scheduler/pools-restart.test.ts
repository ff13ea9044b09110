// A restart mid-refill (a new core over the same data_dir) neither loses nor duplicates pool VMs.

import { expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { tick } from "../../../src/core/pools/tick.ts";
import { insertMember, listMembers } from "../../../src/db/pools.ts";
import { cleanup, fill, poolCore, settle } from "../core/pools-support.ts";

test("restart mid-refill: the new core counts what the old one started and creates only the rest", async () => {
  const P = "uprs";
  const first = await poolCore(P, "[scheduler]\nmax_concurrent_creates = 2");
  const dataDir = first.config.data_dir;
  createPool(first, SYSTEM, { name: `${P}-pool`, profile: `${P}-tiny`, size: 3 });
  expect((await tick(first)).created.length).toBe(2);
  await settle(first);
  // A crash right after recording a member, before its VM existed.
  insertMember(first.db, {
    vm_name: `${P}-ghost`,
    pool: `${P}-pool`,
    generation: 1,
    created_at: new Date().toISOString(),
  });
  await first.close();

  const second = await poolCore(P, "[scheduler]\nmax_concurrent_creates = 2", dataDir);
  try {
    const r = await tick(second);
    expect(r.forgotten).toEqual([`${P}-ghost`]);
    expect(r.ready.length).toBe(2);
    expect(r.created.length).toBe(1);
    await fill(second, `${P}-pool`, 3);
    const members = listMembers(second.db, `${P}-pool`);
    expect(members.length).toBe(3);
    expect(new Set(members.map((m) => m.vm_name)).size).toBe(3);
    const tagged = second.db
      .query("SELECT COUNT(*) AS n FROM vms WHERE json_extract(tags, '$.pool') = ?")
      .get(`${P}-pool`) as { n: number };
    expect(tagged.n).toBe(3);
  } finally {
    await cleanup(second);
    await second.close();
  }
});
