// vmpooler's /status (pools, boot, uptime, ?view=), dashboard stats, /summary (any range, parts) and ready VMs' view.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { apiClient } from "../../support/api.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "uvst";
const A = `${P}-deb`;
const B = `${P}-cent`;
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await poolCore(P);
  createPool(core, SYSTEM, { name: A, profile: `${P}-tiny`, size: 2, lifetime: 7 });
  createPool(core, SYSTEM, { name: B, profile: `${P}-tiny`, size: 1 });
  await fill(core, A, 2);
  await fill(core, B, 1);
  api = apiClient(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const today = () => new Date().toISOString().slice(0, 10);

describe("GET /status", () => {
  test("pools (ready, running, pending, max, lastBoot), boot, status.uptime; keys sorted as v1.rb", async () => {
    await api.post(`/api/v1/vm/${A}`);
    const r = await api.get("/api/v1/status");
    expect(Object.keys(r.body)).toEqual(["boot", "capacity", "clone", "pools", "queue", "status"]);
    expect(r.body.pools[A]).toMatchObject({ running: 1, max: 2 });
    expect(r.body.pools[A].ready + r.body.pools[A].pending).toBe(1);
    expect(r.body.pools[B]).toMatchObject({ ready: 1, running: 0, pending: 0, max: 1 });
    expect(r.body.boot.duration).toEqual({
      average: expect.any(Number),
      min: expect.any(Number),
      max: expect.any(Number),
      total: expect.any(Number),
    });
    expect(r.body.status.uptime).toBeGreaterThan(0);
  });

  test("?view= picks parts; status is always there; without pools no empty pool is reported", async () => {
    const empty = `${P}-empty`;
    createPool(core, SYSTEM, { name: empty, profile: `${P}-tiny`, size: 1 });
    const some = await api.get("/api/v1/status?view=capacity,boot");
    expect(Object.keys(some.body)).toEqual(["boot", "capacity", "status"]);
    expect(some.body.status.ok).toBe(true);
    const pools = await api.get("/api/v1/status?view=pools");
    expect(Object.keys(pools.body)).toEqual(["pools", "status"]);
    expect(pools.body.status.empty).toContain(empty);
    await fill(core, empty, 1);
  });
});

describe("vmpooler's dashboard stats", () => {
  test("/dashboard/stats/vmpooler/pool: size and ready per pool; ?history adds the ready count", async () => {
    const r = await api.get("/dashboard/stats/vmpooler/pool");
    expect(r.status).toBe(200);
    expect(r.body[B]).toEqual({ size: 1, ready: 1 });
    expect((await api.get("/dashboard/stats/vmpooler/pool?history=1")).body[B]).toEqual({
      size: 1,
      ready: 1,
      history: [1],
    });
  });

  test("/dashboard/stats/vmpooler/running: checked-out VMs per platform (the name before its first -)", async () => {
    const r = await api.get("/dashboard/stats/vmpooler/running");
    expect(r.status).toBe(200);
    const running = listMembers(core.db).filter((m) => m.status === "checked_out").length;
    expect(r.body[P]).toEqual({ running });
  });
});

describe("GET /vm/<ready VM>", () => {
  test("shows its pool's default lifetime, state ready, an empty ip and no pool tag", async () => {
    await fill(core, A, 1);
    const name = listMembers(core.db, A).find((m) => m.status === "ready")?.vm_name as string;
    const vm = (await api.get(`/api/v1/vm/${name}`)).body[name];
    expect(vm).toMatchObject({ state: "ready", lifetime: 7, ip: "", template: A, tags: {} });
  });
});

describe("GET /summary", () => {
  test("a from in the future is 400; unknown query keys are ignored; a range over a year is answered", async () => {
    const next = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const future = await api.get(`/api/v1/summary?from=${next}&to=${next}`);
    expect(future.status).toBe(400);
    expect(future.body.ok).toBe(false);
    const extra = await api.get("/api/v1/summary?bogus=1&pool=x");
    expect(extra.status).toBe(200);
    expect(extra.body.daily.map((d: { date: string }) => d.date)).toEqual([today()]);
    const long = await api.get(`/api/v1/summary?from=2015-01-01&to=${today()}`);
    expect(long.status).toBe(200);
    expect(long.body.daily[0].date).toBe("2015-01-01");
    expect(long.body.daily.at(-1).date).toBe(today());
    expect(long.body.daily.length).toBeGreaterThan(366);
    // The one bound left, [vmpooler] summary_max_days: 100 years by default (a range from year 0 is 140 MB).
    expect((await api.get("/api/v1/summary?from=1900-01-01")).status).toBe(400);
  });

  test("/summary/boot, /summary/clone/<field>, /summary/tag[/<tag>]; another part is 404", async () => {
    await api.put(`/api/v1/vm/${(await api.post(`/api/v1/vm/${B}`)).body[B].hostname}`, {
      tags: { team: "qa" },
    });
    const boot = await api.get("/api/v1/summary/boot");
    expect(Object.keys(boot.body)).toEqual(["boot", "daily"]);
    expect(Object.keys(boot.body.boot).sort()).toEqual(["count", "duration"]);
    expect(Object.keys(boot.body.daily[0]).sort()).toEqual(["boot", "date"]);
    const dur = await api.get("/api/v1/summary/clone/duration");
    expect(Object.keys(dur.body.clone)).toEqual(["duration"]);
    expect(Object.keys(dur.body.daily[0].clone)).toEqual(["duration"]);
    const tag = await api.get("/api/v1/summary/tag/team");
    expect(tag.body.tag).toEqual({ team: { qa: 1, total: 1 } });
    expect(tag.body.daily.at(-1).tag).toEqual({ team: { qa: 1, total: 1 } });
    const nope = await api.get("/api/v1/summary/nope");
    expect(nope.status).toBe(404);
    expect(nope.body.ok).toBe(false);
  });
});
