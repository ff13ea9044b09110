// vmpooler's /ondemandvm on the test driver: 201 with a request id, 202 while building, 200 with the hosts; delete; errors.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { tick } from "../../../src/core/pools/tick.ts";
import { getMember } from "../../../src/db/pools.ts";
import { apiClient } from "../../support/api.ts";
import { cleanup, fill, poolCore, settle } from "../core/pools-support.ts";

const P = "uvod";
const POOL = `${P}-deb`;
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  core = await poolCore(
    P,
    '[scheduler]\nmax_concurrent_creates = 20\n[vmpooler]\ndomain = "vms.example.com"',
  );
  createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 1, alias: [`${P}-alias`] });
  await fill(core, POOL, 1);
  api = apiClient(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

/** Polls GET until it is no longer 202, letting the scheduler build in between; bounded. */
async function untilReady(id: string) {
  for (let i = 0; i < 100; i++) {
    await tick(core);
    await settle(core);
    const r = await api.get(`/api/v1/ondemandvm/${id}`);
    if (r.status !== 202) return r;
  }
  throw new Error(`request ${id} stayed pending`);
}

describe("POST/GET/DELETE /api/v1/ondemandvm", () => {
  test("ask by alias with counts as strings: 201, then 202 with string counts, then 200 with the hosts", async () => {
    const r = await api.post("/api/v1/ondemandvm", { [`${P}-alias`]: "2" });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ ok: true, request_id: expect.any(String), domain: "vms.example.com" });
    const id = r.body.request_id as string;

    const pending = await api.get(`/api/v1/ondemandvm/${id}`);
    expect(pending.status).toBe(202);
    expect(pending.body).toEqual({
      ok: true,
      request_id: id,
      ready: false,
      [POOL]: { ready: "1", pending: "1" },
    });

    const done = await untilReady(id);
    expect(done.status).toBe(200);
    expect(done.body.ok).toBe(true);
    expect(done.body.ready).toBe(true);
    expect(done.body.domain).toBe("vms.example.com");
    const hosts = done.body[POOL].hostname as string[];
    expect(hosts.length).toBe(2);
    for (const h of hosts) expect(getMember(core.db, h)?.status).toBe("checked_out");

    // Deleting a ready request returns its VMs; GET then says it was deleted; a second DELETE says so too.
    const del = await api.delete(`/api/v1/ondemandvm/${id}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ ok: true });
    await settle(core);
    for (const h of hosts) expect(getMember(core.db, h)).toBeNull();
    const after = await api.get(`/api/v1/ondemandvm/${id}`);
    expect(after.status).toBe(200);
    expect(after.body).toEqual({
      ok: true,
      request_id: id,
      ready: false,
      message: "The request has been deleted",
    });
    const again = await api.delete(`/api/v1/ondemandvm/${id}`);
    expect(again.status).toBe(200);
    expect(again.body.message).toContain("already been deleted");
  });

  test("a request_id of the client's choosing is used; the same one again is 409", async () => {
    const id = `${P}-req-1234`;
    const r = await api.post("/api/v1/ondemandvm", { [POOL]: "1", request_id: id });
    expect(r.status).toBe(201);
    expect(r.body.request_id).toBe(id);
    const dup = await api.post("/api/v1/ondemandvm", { [POOL]: "1", request_id: id });
    expect(dup.status).toBe(409);
    expect(dup.body.ok).toBe(false);
    expect((await api.delete(`/api/v1/ondemandvm/${id}`)).status).toBe(200);
  });

  test("errors: unknown pool 404, no pool 404, bad counts and ids 400, unknown request 404 — ok false, nothing recorded", async () => {
    const count = () => (core.db.query("SELECT count(*) AS n FROM pool_requests").get() as { n: number }).n;
    const before = count();
    const unknown = await api.post("/api/v1/ondemandvm", { [`${P}-nope`]: "1" });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ ok: false, reason: expect.stringContaining(`${P}-nope`) });
    expect((await api.post("/api/v1/ondemandvm", {})).status).toBe(404);
    expect((await api.post("/api/v1/ondemandvm", { request_id: "x1" })).status).toBe(404);
    for (const bad of [
      { [POOL]: "0" },
      { [POOL]: "two" },
      { [POOL]: -1 },
      { [POOL]: "1", request_id: "../x" },
    ]) {
      const r = await api.post("/api/v1/ondemandvm", bad);
      expect(r.status).toBe(400);
      expect(r.body.ok).toBe(false);
    }
    expect((await api.post("/api/v1/ondemandvm", { [POOL]: { n: 1 } })).status).toBe(400);
    expect(count()).toBe(before);
    for (const method of ["get", "delete"] as const) {
      const r = await api[method](`/api/v1/ondemandvm/${P}-missing`);
      expect(r.status).toBe(404);
      expect(r.body.ok).toBe(false);
    }
  });
});
