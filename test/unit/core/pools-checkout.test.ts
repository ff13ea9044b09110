// Pools on the test driver: refill, checkout all or nothing under concurrency, expiry, reset, restart mid-refill.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { checkout, PoolEmpty } from "../../../src/core/pools/checkout.ts";
import { createPool, resetPool, updatePool } from "../../../src/core/pools/pools.ts";
import { tick } from "../../../src/core/pools/tick.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { vmByName } from "../../../src/db/vms.ts";
import { apiClient } from "../../support/api.ts";
import { cleanup, fill, poolCore, settle } from "./pools-support.ts";

const P = "upck";
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

const members = (pool: string) => listMembers(core.db, pool);
const profile = `${P}-tiny`;

describe("refill", () => {
  test("a pool of 3 fills: pending, then ready once running; tagged and recorded as members", async () => {
    createPool(core, SYSTEM, { name: `${P}-three`, profile, size: 3 });
    const first = await tick(core);
    expect(first.created.length).toBe(3);
    expect(members(`${P}-three`).map((m) => m.status)).toEqual(["pending", "pending", "pending"]);
    await fill(core, `${P}-three`, 3);
    const ms = members(`${P}-three`);
    expect(ms.map((m) => m.status)).toEqual(["ready", "ready", "ready"]);
    for (const m of ms)
      expect(JSON.parse(vmByName(core.db, m.vm_name)?.tags ?? "{}")).toEqual({ pool: `${P}-three` });
    // A full pool makes nothing more.
    expect((await tick(core)).created).toEqual([]);
  });

  test("the global limit bounds creations in flight", async () => {
    const small = await poolCore(`${P}l`, "[scheduler]\nmax_concurrent_creates = 2");
    try {
      createPool(small, SYSTEM, { name: `${P}-limited`, profile: `${P}l-tiny`, size: 5 });
      expect((await tick(small)).created.length).toBe(2);
      // However often it runs, never more than 2 creations are in flight.
      const inFlight = () =>
        small.ops.list({ status: "running", limit: 100 }).filter((o) => o.kind === "vm.create").length;
      for (
        let i = 0;
        i < 30 && listMembers(small.db, `${P}-limited`).filter((m) => m.status === "ready").length < 5;
        i++
      ) {
        await tick(small);
        expect(inFlight()).toBeLessThanOrEqual(2);
        await Bun.sleep(5);
      }
      await fill(small, `${P}-limited`, 5);
      expect(listMembers(small.db, `${P}-limited`).length).toBe(5);
    } finally {
      await cleanup(small);
      await small.close();
    }
  });

  test("reset and a recipe change drain the ready VMs and refill", async () => {
    createPool(core, SYSTEM, { name: `${P}-reset`, profile, size: 2 });
    await fill(core, `${P}-reset`, 2);
    const before = members(`${P}-reset`).map((m) => m.vm_name);
    resetPool(core, SYSTEM, `${P}-reset`);
    await fill(core, `${P}-reset`, 2);
    await settle(core);
    const after = members(`${P}-reset`).map((m) => m.vm_name);
    expect(after.some((n) => before.includes(n))).toBe(false);
    for (const n of before) expect(vmByName(core.db, n)).toBeNull();
    updatePool(core, SYSTEM, `${P}-reset`, { size: 1 });
    await tick(core);
    await settle(core);
    await tick(core);
    expect(members(`${P}-reset`).filter((m) => m.status === "ready").length).toBe(1);
  });
});

describe("failures", () => {
  test("a VM that vanishes while pending is counted as a failure and replaced", async () => {
    createPool(core, SYSTEM, { name: `${P}-vanish`, profile, size: 1 });
    const name = (await tick(core)).created[0] ?? "";
    await settle(core);
    expect((await api.delete(`/v1/vms/${name}?wait=true`)).status).toBe(200);
    const r = await tick(core);
    expect(r.failed).toEqual([name]);
    expect(r.created.length).toBe(1);
    expect((await api.get(`/v1/pools/${P}-vanish`)).body.failures).toBe(1);
  });
});

describe("checkout", () => {
  test("200 concurrent checkouts against 50 ready VMs: 50 distinct VMs, 150 × 503, none twice", async () => {
    createPool(core, SYSTEM, { name: `${P}-fifty`, profile, size: 50 });
    await fill(core, `${P}-fifty`, 50);
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => api.post("/v1/checkout", { [`${P}-fifty`]: 1 })),
    );
    const ok = replies.filter((r) => r.status === 200);
    const empty = replies.filter((r) => r.status === 503);
    expect(ok.length).toBe(50);
    expect(empty.length).toBe(150);
    expect(empty[0]?.body.error.code).toBe("pool_empty");
    const names = ok.flatMap((r) => r.body.vms.map((v: { name: string }) => v.name));
    expect(new Set(names).size).toBe(50);
    expect(members(`${P}-fifty`).filter((m) => m.status === "checked_out").length).toBe(50);
    // Return them (DELETE) and shrink the pool: the test driver's storage pool is small.
    updatePool(core, SYSTEM, `${P}-fifty`, { size: 0 });
    for (const n of names) expect((await api.delete(`/v1/vms/${n}?wait=true`)).status).toBe(200);
    await tick(core);
    await settle(core);
    expect(members(`${P}-fifty`)).toEqual([]);
  });

  test("a two-pool checkout where one pool is short takes nothing and names it", async () => {
    createPool(core, SYSTEM, { name: `${P}-a`, profile, size: 2, alias: [`${P}-alias-a`] });
    createPool(core, SYSTEM, { name: `${P}-b`, profile, size: 1 });
    await fill(core, `${P}-a`, 2);
    await fill(core, `${P}-b`, 1);
    const e = (() => {
      try {
        checkout(core, { [`${P}-alias-a`]: 1, [`${P}-b`]: 2 });
        return null;
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(PoolEmpty);
    expect((e as PoolEmpty).short).toEqual([{ pool: `${P}-b`, requested: 2, ready: 1 }]);
    expect(members(`${P}-a`).filter((m) => m.status === "ready").length).toBe(2);
    expect(members(`${P}-b`).filter((m) => m.status === "ready").length).toBe(1);
    const got = checkout(
      core,
      { [`${P}-alias-a`]: 1, [`${P}-b`]: 1 },
      { owner: "alice", tags: { job: "7" } },
    );
    expect(got.vms.map((v) => [v.pool, v.requested, v.owner])).toEqual([
      [`${P}-a`, `${P}-alias-a`, "alice"],
      [`${P}-b`, `${P}-b`, "alice"],
    ]);
    const row = vmByName(core.db, got.vms[0]?.name ?? "");
    expect(JSON.parse(row?.tags ?? "{}")).toEqual({ pool: `${P}-a`, job: "7" });
  });

  test("an alias several pools share takes from any of them, named pools first, all or nothing", async () => {
    const shared = `${P}-shared`;
    createPool(core, SYSTEM, { name: `${P}-c`, profile, size: 2, alias: [shared] });
    createPool(core, SYSTEM, { name: `${P}-d`, profile, size: 1, alias: [shared] });
    await fill(core, `${P}-c`, 2);
    await fill(core, `${P}-d`, 1);
    const ready = () =>
      [`${P}-c`, `${P}-d`].map((p) => members(p).filter((m) => m.status === "ready").length);
    const e = (() => {
      try {
        return checkout(core, { [shared]: 2, [`${P}-c`]: 2 });
      } catch (x) {
        return x;
      }
    })();
    // c's two go to the name that asked for c; the alias finds only d's one: nothing is taken.
    expect(e).toBeInstanceOf(PoolEmpty);
    expect((e as PoolEmpty).short).toEqual([{ pool: shared, requested: 2, ready: 1 }]);
    expect(ready()).toEqual([2, 1]);
    const got = checkout(core, { [shared]: 3 });
    expect(got.vms.map((v) => v.requested)).toEqual([shared, shared, shared]);
    expect(got.vms.map((v) => v.pool).sort()).toEqual([`${P}-c`, `${P}-c`, `${P}-d`]);
    expect(new Set(got.vms.map((v) => v.name)).size).toBe(3);
    expect(ready()).toEqual([0, 0]);
    updatePool(core, SYSTEM, `${P}-c`, { size: 0 });
    updatePool(core, SYSTEM, `${P}-d`, { size: 0 });
    for (const v of got.vms) expect((await api.delete(`/v1/vms/${v.name}?wait=true`)).status).toBe(200);
  });

  test("lifetime: default from the pool, bounded by max_lifetime, and expiry deletes on time", async () => {
    createPool(core, SYSTEM, { name: `${P}-life`, profile, size: 1, lifetime: 2, max_lifetime: 4 });
    await fill(core, `${P}-life`, 1);
    const t0 = Date.parse("2030-01-01T00:00:00Z");
    const e = (() => {
      try {
        return checkout(core, { [`${P}-life`]: 1 }, { lifetime: 5, now: t0 });
      } catch (x) {
        return x;
      }
    })();
    expect((e as { httpStatus: number }).httpStatus).toBe(400);
    const [vm] = checkout(core, { [`${P}-life`]: 1 }, { now: t0 }).vms;
    expect(vm?.expires_at).toBe("2030-01-01T02:00:00.000Z");
    const name = vm?.name ?? "";
    // PATCH extends it, absolute from checkout, within the bound.
    const r = await api.patch(`/v1/vms/${name}`, { lifetime: 3 });
    expect(r.status).toBe(200);
    expect((await api.patch(`/v1/vms/${name}`, { lifetime: 5 })).status).toBe(400);
    await tick(core, t0 + 3 * 3_600_000 - 1000);
    await settle(core);
    expect(vmByName(core.db, name)).not.toBeNull();
    const past = await tick(core, t0 + 3 * 3_600_000);
    expect(past.drained).toContain(name);
    await settle(core);
    expect(vmByName(core.db, name)).toBeNull();
    const hist = core.db.query("SELECT status FROM pool_history WHERE vm_name = ?").get(name) as {
      status: string;
    };
    expect(hist.status).toBe("draining");
  });

  test("PATCH lifetime of a VM that is not checked out is 409", async () => {
    const [m] = members(`${P}-three`);
    expect((await api.patch(`/v1/vms/${m?.vm_name}`, { lifetime: 1 })).status).toBe(409);
  });
});
