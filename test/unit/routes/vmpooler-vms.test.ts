// vmpooler's /api/v1/vm routes (auth off): pool names, all-or-nothing checkout, VM view, PUT, DELETE, disks, snapshots.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { powerVm } from "../../../src/core/vms/index.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { apiClient, type Reply } from "../../support/api.ts";
import { cleanup, fill, poolCore, settle } from "../core/pools-support.ts";

const P = "uvmp";
const A = `${P}-deb`;
const B = `${P}-cent`;
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await poolCore(P, '[vmpooler]\ndomain = "vms.example.com"');
  createPool(core, SYSTEM, { name: A, profile: `${P}-tiny`, size: 6, alias: [`${P}-debian`] });
  createPool(core, SYSTEM, { name: B, profile: `${P}-tiny`, size: 2 });
  await fill(core, A, 6);
  await fill(core, B, 2);
  api = apiClient(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const ready = (pool: string) => listMembers(core.db, pool).filter((m) => m.status === "ready").length;
const V = "/api/v1/vm";

function expectFail(r: Reply, status: number) {
  expect(r.status).toBe(status);
  expect(r.body.ok).toBe(false);
  expect(typeof r.body.reason).toBe("string");
}

/** One VM of pool A, checked out through the front. */
async function take(): Promise<string> {
  await fill(core, A, 1);
  const r = await api.post(`${V}/${A}`);
  expect(r.status).toBe(200);
  return r.body[A].hostname as string;
}

describe("GET /vm", () => {
  test("lists every pool, each followed by its aliases", async () => {
    const r = await api.get(V);
    expect(r.status).toBe(200);
    const names: string[] = r.body;
    expect(names.indexOf(`${P}-debian`)).toBe(names.indexOf(A) + 1);
    expect(names).toContain(B);
  });
});

describe("checkout", () => {
  test("POST /vm/<pool>: one hostname as a string, ok and domain", async () => {
    const before = ready(A);
    const r = await api.post(`${V}/${A}`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual([A, "domain", "ok"].sort());
    expect(r.body.ok).toBe(true);
    expect(r.body.domain).toBe("vms.example.com");
    expect(typeof r.body[A].hostname).toBe("string");
    expect(ready(A)).toBe(before - 1);
  });

  test("POST /vm/<pool>+<pool>+<other>: a list for two, a string for one, keyed by the name asked", async () => {
    const r = await api.post(`${V}/${P}-debian+${P}-debian+${B}`);
    expect(r.status).toBe(200);
    expect(r.body[`${P}-debian`].hostname).toHaveLength(2);
    expect(new Set(r.body[`${P}-debian`].hostname).size).toBe(2);
    expect(typeof r.body[B].hostname).toBe("string");
    expect(r.body[A]).toBeUndefined();
  });

  test("POST /vm with counts as strings or numbers, also sent form-encoded as curl -d does", async () => {
    await fill(core, A, 3);
    await fill(core, B, 1);
    const r = await api.post(V, { [A]: "2", [B]: 1 });
    expect(r.status).toBe(200);
    expect(r.body[A].hostname).toHaveLength(2);
    expect(typeof r.body[B].hostname).toBe("string");
    const res = await api.app.handle(
      new Request(`http://localhost${V}`, {
        method: "POST",
        body: JSON.stringify({ [A]: "1" }),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
    );
    expect(res.status).toBe(200);
    expect(typeof ((await res.json()) as Record<string, { hostname: string }>)[A]?.hostname).toBe("string");
  });

  test("an unknown pool is 404 ok:false and nothing is taken", async () => {
    await fill(core, A, 1);
    const before = ready(A);
    expectFail(await api.post(`${V}/${A}+${P}-nope`), 404);
    expectFail(await api.post(V, { [A]: 1, [`${P}-nope`]: 1 }), 404);
    expectFail(await api.post(V, {}), 404);
    expect(ready(A)).toBe(before);
  });

  test("a pool short of ready VMs is 503 ok:false and takes nothing from the others", async () => {
    await fill(core, A, 1);
    const a = ready(A);
    const b = ready(B);
    expectFail(await api.post(V, { [A]: 1, [B]: b + 1 }), 503);
    expectFail(await api.post(`${V}/${A}${`+${B}`.repeat(b + 1)}`), 503);
    expect([ready(A), ready(B)]).toEqual([a, b]);
  });

  test("bad counts and bodies are 400 ok:false", async () => {
    for (const body of [{ [A]: "x" }, { [A]: 0 }, { [A]: -1 }, { [A]: 1.5 }, { [A]: true }, [A]]) {
      expectFail(await api.post(V, body), 400);
    }
    expectFail(await api.raw("POST", V, "{not json"), 400);
  });
});

describe("GET, PUT and DELETE /vm/<hostname>", () => {
  test("GET shows template, lifetime, running, state, tags and domain; no disk or snapshots yet", async () => {
    const host = await take();
    const r = await api.get(`${V}/${host}`);
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    const vm = r.body[host];
    expect(vm).toMatchObject({ template: A, lifetime: 24, state: "running", domain: "vms.example.com" });
    expect(vm.tags.pool).toBeUndefined();
    expect(vm.running).toBeGreaterThanOrEqual(0);
    expect(vm.running).toBeLessThan(0.1);
    expect(vm.disk).toBeUndefined();
    expect(vm.snapshots).toBeUndefined();
  });

  test("GET of a ready (not checked out) VM says ready; an unknown VM is 404 ok:false", async () => {
    await fill(core, B, 1);
    const m = listMembers(core.db, B).find((x) => x.status === "ready");
    expect((await api.get(`${V}/${m?.vm_name}`)).body[m?.vm_name as string].state).toBe("ready");
    expectFail(await api.get(`${V}/${P}-nope`), 404);
  });

  test("PUT lifetime (string or number) and tags (merged), seen by GET", async () => {
    const host = await take();
    expect((await api.put(`${V}/${host}`, { lifetime: "2" })).body).toEqual({ ok: true });
    expect((await api.get(`${V}/${host}`)).body[host].lifetime).toBe(2);
    expect((await api.put(`${V}/${host}`, { lifetime: 3 })).status).toBe(200);
    const t = await api.put(`${V}/${host}`, { tags: { department: "engineering", user: "jdoe" } });
    expect(t.body).toEqual({ ok: true });
    const vm = (await api.get(`${V}/${host}`)).body[host];
    expect(vm.lifetime).toBe(3);
    expect(vm.tags).toEqual({ department: "engineering", user: "jdoe" });
  });

  test("PUT with bad input is 400 ok:false; unknown VM 404", async () => {
    const host = await take();
    for (const body of [
      { lifetime: "x" },
      { lifetime: 0 },
      { lifetime: -2 },
      { lifetime: 0.5 },
      { lifetime: "abc" },
      { tags: { pool: "other" } },
      { lifetime: 10_000 },
      { tags: "engineering" },
      { tags: { a: 1 } },
      { bogus: 1 },
      {},
    ]) {
      expectFail(await api.put(`${V}/${host}`, body), 400);
    }
    expect((await api.get(`${V}/${host}`)).body[host].lifetime).toBe(24);
    expectFail(await api.put(`${V}/${P}-nope`, { lifetime: 2 }), 404);
  });

  test("DELETE returns the VM (ok:true) and it is gone once deleted; unknown VM 404", async () => {
    const host = await take();
    expect((await api.delete(`${V}/${host}`)).body).toEqual({ ok: true });
    await settle(core);
    expectFail(await api.get(`${V}/${host}`), 404);
    expectFail(await api.delete(`${V}/${host}`), 404);
  });
});

describe("disks and snapshots", () => {
  test("POST disk/<size>: 202 +Ngb, then GET lists it (VM stopped: the test driver cannot hot-plug)", async () => {
    const host = await take();
    await core.ops.wait((await powerVm(core, SYSTEM, host, "stop")).id, 30);
    const r = await api.post(`${V}/${host}/disk/8`);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ ok: true, [host]: { disk: "+8gb" } });
    await settle(core);
    expect((await api.get(`${V}/${host}`)).body[host].disk).toEqual(["+8gb"]);
  });

  test("POST disk with a bad size is 400 ok:false; unknown VM 404", async () => {
    const host = await take();
    for (const size of ["0", "abc", "1.5", "-1", "99999999"]) {
      expectFail(await api.post(`${V}/${host}/disk/${size}`), 400);
    }
    expectFail(await api.post(`${V}/${P}-nope/disk/8`), 404);
  });

  test("POST snapshot: 202 with its name, listed by GET; revert to it 202 ok:true; unknown ones 404", async () => {
    const host = await take();
    const r = await api.post(`${V}/${host}/snapshot`);
    expect(r.status).toBe(202);
    expect(r.body.ok).toBe(true);
    const snap: string = r.body[host].snapshot;
    expect(snap).toMatch(/^[a-z][a-z0-9]{31}$/);
    await settle(core);
    expect((await api.get(`${V}/${host}`)).body[host].snapshots).toEqual([snap]);
    const rv = await api.post(`${V}/${host}/snapshot/${snap}`);
    expect(rv.status).toBe(202);
    expect(rv.body).toEqual({ ok: true });
    await settle(core);
    expectFail(await api.post(`${V}/${host}/snapshot/nope`), 404);
    expectFail(await api.post(`${V}/${P}-nope/snapshot`), 404);
  });
});

describe("token routes while auth is off", () => {
  test("are 404 ok:false", async () => {
    expectFail(await api.get("/api/v1/token"), 404);
    expectFail(await api.post("/api/v1/token"), 404);
    expectFail(await api.get("/api/v1/token/abc"), 404);
    expectFail(await api.delete("/api/v1/token/abc"), 404);
  });
});

describe("GET /status and GET /summary", () => {
  test("status: capacity, clone, queue with completed, and a verdict naming empty pools", async () => {
    const empty = `${P}-empty`;
    createPool(core, SYSTEM, { name: empty, profile: `${P}-tiny`, size: 1 });
    const r = await api.get("/api/v1/status");
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(["boot", "capacity", "clone", "pools", "queue", "status"]);
    expect(Object.keys(r.body.capacity).sort()).toEqual(["current", "percent", "total"]);
    expect(Object.keys(r.body.clone.duration).sort()).toEqual(["average", "max", "min", "total"]);
    expect(typeof r.body.clone.count.total).toBe("number");
    expect(Object.keys(r.body.queue).sort()).toEqual(
      ["booting", "cloning", "completed", "pending", "ready", "running", "total"].sort(),
    );
    expect(r.body.queue.ready).toBe(r.body.capacity.current);
    expect(r.body.status.ok).toBe(false);
    expect(r.body.status.message).toMatch(/^Found \d+ empty pools\.$/);
    expect(r.body.status.empty).toContain(empty);
    await fill(core, empty, 1);
    const full = await api.get("/api/v1/status");
    expect(full.body.status.empty ?? []).not.toContain(empty);
  });

  test("status: every pool stocked is ok with vmpooler's message", async () => {
    const lone = await poolCore(`${P}s`);
    try {
      const r = await apiClient(lone).get("/api/v1/status");
      expect(r.body.status).toEqual({
        ok: true,
        message: "Battle station fully armed and operational.",
        uptime: expect.any(Number),
      });
    } finally {
      await lone.close();
    }
  });

  test("summary: today by default, a day per date from..to, bad dates 400 ok:false", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const r = await api.get("/api/v1/summary");
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["boot", "clone", "daily", "tag"]);
    expect(r.body.daily.map((d: { date: string }) => d.date)).toEqual([today]);
    expect(Object.keys(r.body.boot.count).sort()).toEqual(["average", "max", "min", "total"]);
    const two = await api.get("/api/v1/summary?from=2015-03-10&to=2015-03-11");
    expect(two.body.daily.map((d: { date: string }) => d.date)).toEqual(["2015-03-10", "2015-03-11"]);
    expect(two.body.daily[0]).toEqual({
      date: "2015-03-10",
      boot: { duration: { average: 0, min: 0, max: 0, total: 0 }, count: { total: 0 } },
      clone: { duration: { average: 0, min: 0, max: 0, total: 0 }, count: { total: 0 } },
      tag: {},
    });
    for (const q of ["from=2015-13-01", "from=yesterday", "from=2015-03-11&to=2015-03-10"]) {
      expectFail(await api.get(`/api/v1/summary?${q}`), 400);
    }
  });
});
