// GET /v1/status and GET /v1/summary: pool stock, empty pools, durations from history, tags, and bad ranges.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { checkout } from "../../../src/core/pools/checkout.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { deleteVmOp } from "../../../src/core/vms/delete.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { apiClient } from "../../support/api.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "ustat";
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;
const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

/** An ended pool VM with a known boot time, and its create operation with a known clone time, on a past day. */
function pastVm(name: string, created: string, ready: string, cloned: string): void {
  core.db
    .query(
      `INSERT INTO pool_history (vm_name, pool, status, created_at, ready_at, checked_out_at, owner, ended_at)
       VALUES (?, ?, 'checked_out', ?, ?, NULL, NULL, ?)`,
    )
    .run(name, `${P}-old`, created, ready, ready);
  core.db
    .query(
      `INSERT INTO operations (id, kind, target, status, created_at, updated_at, finished_at)
       VALUES (?, 'vm.create', ?, 'succeeded', ?, ?, ?)`,
    )
    .run(`op-${name}`, `vm/${name}`, created, cloned, cloned);
}

beforeAll(async () => {
  core = await poolCore(P);
  api = apiClient(core);
  createPool(core, SYSTEM, { name: `${P}-a`, profile: `${P}-tiny`, size: 2 });
  await fill(core, `${P}-a`, 2);
  // Created after the fill and never ticked: a pool with no ready VM.
  createPool(core, SYSTEM, { name: `${P}-b`, profile: `${P}-tiny`, size: 1 });
  createPool(core, SYSTEM, { name: `${P}-zero`, profile: `${P}-tiny`, size: 0 });
  pastVm(`${P}-p1`, "2020-01-01T10:00:00.000Z", "2020-01-01T10:00:10.000Z", "2020-01-01T10:00:02.000Z");
  pastVm(`${P}-p2`, "2020-01-01T11:00:00.000Z", "2020-01-01T11:00:30.000Z", "2020-01-01T11:00:04.000Z");
  pastVm(`${P}-p3`, "2020-01-03T11:00:00.000Z", "2020-01-03T11:00:20.000Z", "2020-01-03T11:00:03.000Z");
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

describe("GET /v1/status", () => {
  test("per pool stock, capacity, empty pools (size 0 is never empty), today's durations, queue", async () => {
    const r = await api.get("/v1/status");
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.body.pools.map((p: { name: string }) => [p.name, p]));
    expect(byName[`${P}-a`]).toEqual({
      name: `${P}-a`,
      size: 2,
      ready: 2,
      pending: 0,
      running: 0,
      draining: 0,
      failures: 0,
    });
    expect(byName[`${P}-b`]).toMatchObject({ size: 1, ready: 0, pending: 0 });
    expect(r.body.empty).toEqual([`${P}-b`]);
    expect(r.body.ok).toBe(false);
    expect(r.body.message).toBe("Found 1 empty pools.");
    expect(r.body.capacity).toEqual({ current: 2, total: 3, percent: 66.7 });
    // Today: the two VMs of pool a were cloned and became ready; the 2020 history is not today's.
    expect(r.body.boot.count).toBe(2);
    expect(r.body.clone.count).toBe(2);
    expect(r.body.boot.min).toBeGreaterThanOrEqual(0);
    expect(r.body.boot.max).toBeGreaterThanOrEqual(r.body.boot.min);
    expect(r.body.queue).toEqual({
      pending: 0,
      cloning: 0,
      booting: 0,
      ready: 2,
      running: 0,
      total: 2,
      operations: 0,
    });
  });
});

describe("GET /v1/summary", () => {
  test("a past range: exact durations, daily entries for every day, count statistics over days", async () => {
    const r = await api.get("/v1/summary?from=2020-01-01&to=2020-01-03");
    expect(r.status).toBe(200);
    expect(r.body.boot).toEqual({
      duration: { average: 20, min: 10, max: 30, total: 60 },
      count: { average: 1, min: 0, max: 2, total: 3 },
    });
    expect(r.body.clone).toEqual({
      duration: { average: 3, min: 2, max: 4, total: 9 },
      count: { average: 1, min: 0, max: 2, total: 3 },
    });
    expect(r.body.daily.map((d: { date: string }) => d.date)).toEqual([
      "2020-01-01",
      "2020-01-02",
      "2020-01-03",
    ]);
    expect(r.body.daily[0].boot).toEqual({
      duration: { average: 20, min: 10, max: 30, total: 40 },
      count: { total: 2 },
    });
    expect(r.body.daily[1]).toEqual({
      date: "2020-01-02",
      boot: { duration: { average: 0, min: 0, max: 0, total: 0 }, count: { total: 0 } },
      clone: { duration: { average: 0, min: 0, max: 0, total: 0 }, count: { total: 0 } },
      tag: {},
    });
    expect(r.body.daily[2].clone.count.total).toBe(1);
    expect(r.body.tag).toEqual({});
  });

  test("today by default; checkout tags and the owner are counted, and survive the VM's deletion", async () => {
    const out = checkout(core, { [`${P}-a`]: 1 }, { owner: "alice", tags: { team: "web" } });
    const vm = out.vms[0]?.name ?? "";
    const r = await api.get("/v1/summary");
    expect(r.status).toBe(200);
    expect(r.body.daily.map((d: { date: string }) => d.date)).toEqual([today]);
    expect(r.body.tag).toEqual({ team: { web: 1, total: 1 }, user: { alice: 1, total: 1 } });
    expect(r.body.daily[0].tag).toEqual(r.body.tag);
    expect(r.body.boot.count.total).toBe(2);
    await core.ops.wait(deleteVmOp(core, SYSTEM, vm).id, 60);
    expect(listMembers(core.db, `${P}-a`).some((m) => m.vm_name === vm)).toBe(false);
    const after = await api.get(`/v1/summary?from=${yesterday}&to=${today}`);
    expect(after.body.daily.length).toBe(2);
    expect(after.body.boot.count.total).toBe(2); // the deleted VM's boot comes from pool_history
    expect(after.body.tag).toEqual({ team: { web: 1, total: 1 }, user: { alice: 1, total: 1 } });
    const status = await api.get("/v1/status");
    expect(status.body.boot.count).toBe(2);
  });

  test("tags set later on a checked-out VM (PATCH) are counted", async () => {
    const vm = checkout(core, { [`${P}-a`]: 1 }).vms[0]?.name ?? "";
    const p = await api.patch(`/v1/vms/${vm}`, { tags: { pool: `${P}-a`, project: "apollo" } });
    expect(p.status).toBe(200);
    const r = await api.get("/v1/summary");
    expect(r.body.tag).toEqual({
      team: { web: 1, total: 1 },
      user: { alice: 1, total: 1 },
      project: { apollo: 1, total: 1 },
    });
  });

  test("bad dates, reversed and too long ranges, unknown fields: 400 in the error shape", async () => {
    for (const q of [
      "from=2020-02-30",
      "from=2020-13-01",
      "to=20200101",
      "from=yesterday",
      "from=2020-01-03&to=2020-01-01",
      "from=2020-01-01&to=2021-01-02",
      "from=2020-01-01&extra=1",
    ]) {
      const r = await api.get(`/v1/summary?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe("invalid_request");
      expect(typeof r.body.error.message).toBe("string");
    }
    // 366 days is the bound: 2020 is a leap year.
    expect((await api.get("/v1/summary?from=2020-01-01&to=2020-12-31")).status).toBe(200);
  });
});
