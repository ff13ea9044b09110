// The members a refill drains when a pool has too many: its generation's ready ones first, the newest first, only as many as asked.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { insertMember, moveMember, surplusMembers } from "../../src/db/pools.ts";
import { testCore } from "../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  core = await testCore();
  const at = (m: number) => `2026-12-05T00:0${m}:00.000Z`;
  const members: [string, string, number, "pending" | "ready" | "checked_out"][] = [
    ["s1", "p", 1, "pending"],
    ["s2", "p", 1, "ready"],
    ["s3", "p", 1, "ready"],
    ["s4", "p", 1, "pending"],
    ["s5", "p", 1, "checked_out"],
    ["s6", "p", 0, "ready"],
    ["s7", "q", 1, "ready"],
  ];
  for (const [i, [vm_name, pool, generation, status]] of members.entries()) {
    insertMember(core.db, { vm_name, pool, generation, created_at: at(i) });
    if (status !== "pending") moveMember(core.db, vm_name, ["pending"], "ready");
    if (status === "checked_out") moveMember(core.db, vm_name, ["ready"], "checked_out");
  }
});
afterAll(async () => {
  await core.close();
});

test("ready before pending, newest first, within the pool's generation, at most `limit`", () => {
  const names = (limit: number) => surplusMembers(core.db, "p", 1, limit).map((m) => m.vm_name);
  expect(names(3)).toEqual(["s3", "s2", "s4"]);
  expect(names(10)).toEqual(["s3", "s2", "s4", "s1"]);
  expect(names(0)).toEqual([]);
});
