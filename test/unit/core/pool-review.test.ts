// The scheduler's full review read in rowid slices: the same members as one read, each slice bounded by its rows.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { tick } from "../../../src/core/pools/tick.ts";
import { insertMember, listMembers, membersNeedingReview } from "../../../src/db/pools.ts";
import { cleanup, fill, poolCore } from "./pools-support.ts";

const P = "rvw";
let core: Awaited<ReturnType<typeof poolCore>>;
beforeAll(async () => {
  core = await poolCore(P, "[scheduler]\nmax_concurrent_creates = 10");
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

/** Every member the review finds, read `limit` rows at a time; and how many reads it took. */
function reviewIn(limit: number, now: string): { names: string[]; reads: number } {
  const names: string[] = [];
  let after = 0;
  let reads = 0;
  for (;;) {
    const { members, next } = membersNeedingReview(core.db, now, after, limit);
    reads++;
    names.push(...members.map((m) => m.vm_name));
    if (next === null) break;
    expect(next).toBeGreaterThan(after);
    after = next;
  }
  return { names: names.sort(), reads };
}

test("slices find exactly what one read finds: a stopped ready VM, an old generation, a member without its VM", async () => {
  const pool = `${P}-p`;
  createPool(core, SYSTEM, { name: pool, profile: `${P}-tiny`, size: 7 });
  await fill(core, pool, 7);
  const now = new Date().toISOString();
  // A full, healthy pool: nothing to review.
  expect(reviewIn(2, now).names).toEqual([]);

  const [a, b] = listMembers(core.db, pool).map((m) => m.vm_name) as [string, string];
  core.db.query("UPDATE vms SET status = 'stopped' WHERE name = ?").run(a);
  core.db.query("UPDATE pool_vms SET generation = generation - 1 WHERE vm_name = ?").run(b);
  insertMember(core.db, { vm_name: `${P}-orphan`, pool, generation: 1, created_at: now });
  const want = [a, b, `${P}-orphan`].sort();

  const whole = reviewIn(1000, now);
  expect(whole).toEqual({ names: want, reads: 1 });
  // 8 members, 2 rows a read: 4 reads that each stop at their bound, and a last one that finds the end.
  const sliced = reviewIn(2, now);
  expect(sliced.names).toEqual(want);
  expect(sliced.reads).toBe(5);

  // A full pass acts on them: the stopped and the old one are drained, the one without a VM forgotten.
  const r = await tick(core, Date.now());
  expect([...r.drained].sort()).toEqual([a, b].sort());
  expect(r.forgotten).toEqual([`${P}-orphan`]);
});
