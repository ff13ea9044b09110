// /v1/requests on the test driver: VMs built beyond a pool's size, handed out all at once; cancel, errors, owners.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool, deletePool } from "../../../src/core/pools/pools.ts";
import { tick } from "../../../src/core/pools/tick.ts";
import { getMember, listMembers } from "../../../src/db/pools.ts";
import { vmByName } from "../../../src/db/vms.ts";
import { apiClient, basicAuth } from "../../support/api.ts";
import { cleanup, fill, poolCore, settle } from "../core/pools-support.ts";

const P = "ureq";
const ONE = `${P}-one`;
const TWO = `${P}-two`;
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  core = await poolCore(P, "[scheduler]\nmax_concurrent_creates = 20");
  createPool(core, SYSTEM, { name: ONE, profile: `${P}-tiny`, size: 1, alias: [`${P}-uno`] });
  createPool(core, SYSTEM, { name: TWO, profile: `${P}-tiny`, size: 1 });
  await fill(core, ONE, 1);
  await fill(core, TWO, 1);
  api = apiClient(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const stock = (pool: string) =>
  listMembers(core.db, pool).filter((m) => m.status === "pending" || m.status === "ready").length;

/** Ticks (letting creations finish) until the request is no longer pending; bounded. */
async function untilSettled(id: string) {
  for (let i = 0; i < 100; i++) {
    await tick(core);
    await settle(core);
    const r = await api.get(`/v1/requests/${id}`);
    if (r.body.status !== "pending") return r;
  }
  throw new Error(`request ${id} stayed pending`);
}

describe("a request beyond the ready stock", () => {
  test("3 from a pool of size 1: pending, extra VMs built, then ready with 3 VMs handed out at once", async () => {
    const r = await api.post(`/v1/requests?lifetime=2`, { [ONE]: 3 });
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe(`/v1/requests/${r.body.id}`);
    expect(r.body.status).toBe("pending");
    expect(r.body.ready).toBe(false);
    expect(r.body.owner).toBeNull();
    expect(r.body.pools).toEqual([{ pool: ONE, requested: 3, ready: 1, pending: 2, vms: [] }]);

    // One pass: the pool is built up to its size plus the 3 asked for; only 1 is ready, so nothing is handed out.
    const first = await tick(core);
    expect(first.created.length).toBe(3);
    expect(stock(ONE)).toBe(4);
    const mid = await api.get(`/v1/requests/${r.body.id}`);
    expect(mid.body.status).toBe("pending");
    expect(mid.body.pools[0].vms).toEqual([]);

    const done = await untilSettled(r.body.id);
    expect(done.body.status).toBe("ready");
    expect(done.body.ready).toBe(true);
    const [item] = done.body.pools;
    expect(item).toMatchObject({ pool: ONE, requested: 3, ready: 3, pending: 0 });
    expect(new Set(item.vms).size).toBe(3);
    for (const vm of item.vms as string[]) {
      const m = getMember(core.db, vm);
      expect(m?.status).toBe("checked_out");
      expect(m?.owner).toBeNull();
      expect(m?.lifetime_hours).toBe(2);
      expect(JSON.parse(vmByName(core.db, vm)?.tags ?? "{}")).toEqual({ pool: ONE });
    }
    // The pool keeps its own size of ready VMs next to what the request took.
    await fill(core, ONE, 1);
    expect(stock(ONE)).toBe(1);
  });

  test("two pools in one request (one by alias): all handed out together", async () => {
    const r = await api.post("/v1/requests", { [`${P}-uno`]: 1, [TWO]: 2 });
    expect(r.status).toBe(202);
    expect(r.body.pools.map((p: { pool: string; requested: number }) => [p.pool, p.requested])).toEqual([
      [ONE, 1],
      [TWO, 2],
    ]);
    const done = await untilSettled(r.body.id);
    expect(done.body.status).toBe("ready");
    const byPool = Object.fromEntries(
      done.body.pools.map((p: { pool: string; vms: string[] }) => [p.pool, p.vms]),
    );
    expect(byPool[ONE].length).toBe(1);
    expect(byPool[TWO].length).toBe(2);
    for (const vm of [...byPool[ONE], ...byPool[TWO]])
      expect(getMember(core.db, vm)?.status).toBe("checked_out");
  });
});

describe("order and failure", () => {
  test("an older request still short holds back the ready VMs a younger one would take", async () => {
    const HOLD = `${P}-hold`;
    createPool(core, SYSTEM, { name: HOLD, profile: `${P}-tiny`, size: 1 });
    await fill(core, HOLD, 1);
    const older = await api.post("/v1/requests", { [HOLD]: 2 });
    const younger = await api.post("/v1/requests", { [HOLD]: 1 });
    // One ready VM exists, which the younger request alone could take: it must wait for the older one.
    await tick(core);
    const o = (await untilSettled(older.body.id)).body;
    const y = (await untilSettled(younger.body.id)).body;
    expect([o.status, y.status]).toEqual(["ready", "ready"]);
    expect(y.ready_at >= o.ready_at).toBe(true);
  });

  test("a pending request whose pool is deleted fails, with the reason", async () => {
    const GONE = `${P}-gone`;
    createPool(core, SYSTEM, { name: GONE, profile: `${P}-tiny`, size: 0 });
    const r = await api.post("/v1/requests", { [GONE]: 1 });
    deletePool(core, SYSTEM, GONE);
    const done = await untilSettled(r.body.id);
    expect(done.body.status).toBe("failed");
    expect(done.body.error).toContain(GONE);
    expect((await api.delete(`/v1/requests/${r.body.id}`)).status).toBe(409);
  });
});

describe("cancel", () => {
  test("a pending request: its extra demand goes and the surplus drains back to the pool's size", async () => {
    const r = await api.post("/v1/requests", { [TWO]: 2 });
    await tick(core);
    expect(stock(TWO)).toBe(3);
    const c = await api.delete(`/v1/requests/${r.body.id}`);
    expect(c.status).toBe(200);
    expect(c.body.status).toBe("cancelled");
    expect(c.body.pools[0]).toMatchObject({ requested: 2, ready: 0, pending: 0, vms: [] });
    for (let i = 0; i < 50 && stock(TWO) > 1; i++) {
      await tick(core);
      await settle(core);
    }
    expect(stock(TWO)).toBe(1);
    expect(listMembers(core.db, TWO).filter((m) => m.status === "checked_out").length).toBe(2); // earlier test's
    expect((await api.get(`/v1/requests/${r.body.id}`)).body.status).toBe("cancelled");
    expect((await api.delete(`/v1/requests/${r.body.id}`)).status).toBe(409);
  });

  test("a ready request: its VMs are returned (deleted)", async () => {
    const r = await api.post("/v1/requests", { [ONE]: 1 });
    const done = await untilSettled(r.body.id);
    const [vm] = done.body.pools[0].vms as string[];
    expect(getMember(core.db, vm as string)?.status).toBe("checked_out");
    const c = await api.delete(`/v1/requests/${r.body.id}`);
    expect(c.status).toBe(200);
    expect(c.body.status).toBe("cancelled");
    expect(c.body.pools[0].vms).toEqual([vm]);
    await settle(core);
    expect(getMember(core.db, vm as string)).toBeNull();
    expect(vmByName(core.db, vm as string)).toBeNull();
    const again = await api.delete(`/v1/requests/${r.body.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("conflict");
  });
});

describe("errors", () => {
  test("unknown request: 404 on GET and DELETE", async () => {
    for (const r of [await api.get("/v1/requests/nope"), await api.delete("/v1/requests/nope")]) {
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe("not_found");
      expect(typeof r.body.error.message).toBe("string");
    }
  });

  test("unknown pool: 404, nothing recorded", async () => {
    const before = core.db.query("SELECT count(*) AS n FROM pool_requests").get() as { n: number };
    const r = await api.post("/v1/requests", { [ONE]: 1, [`${P}-none`]: 1 });
    expect(r.status).toBe(404);
    expect(r.body.error.message).toContain(`${P}-none`);
    expect(core.db.query("SELECT count(*) AS n FROM pool_requests").get()).toEqual(before);
  });

  test("bad input: 400", async () => {
    const bad = [
      await api.post("/v1/requests", {}),
      await api.post("/v1/requests", { [ONE]: 0 }),
      await api.post("/v1/requests", { [ONE]: 1.5 }),
      await api.post("/v1/requests", { [ONE]: "2" }),
      await api.post("/v1/requests", { "Not A Pool": 1 }),
      await api.post(`/v1/requests?lifetime=1000`, { [ONE]: 1 }),
      await api.post(`/v1/requests?lifetime=0`, { [ONE]: 1 }),
      await api.post(`/v1/requests?bogus=1`, { [ONE]: 1 }),
      await api.raw("POST", "/v1/requests", "{not json"),
    ];
    for (const r of bad) {
      expect(r.status).toBe(400);
      expect(typeof r.body.error.code).toBe("string");
      expect(typeof r.body.error.message).toBe("string");
    }
  });
});

describe("owners with auth on", () => {
  const A = `${P}a`;
  let authed: Awaited<ReturnType<typeof poolCore>>;
  let http: ReturnType<typeof apiClient>;
  const call = (m: string, path: string, h: Record<string, string> = {}, b?: unknown) =>
    http.send(m, path, h, b);
  const tokens: Record<string, string> = {};
  const as = (user: string) => ({ "x-auth-token": tokens[user] as string });

  beforeAll(async () => {
    const alice = await Bun.password.hash("alice-pw", { algorithm: "argon2id" });
    const bob = await Bun.password.hash("bob-pw", { algorithm: "argon2id" });
    authed = await poolCore(
      A,
      `[auth]\nenabled = true\nmax_running_vms_per_user = 3\n[[auth.users]]\nname = "alice"\npassword_hash = "${alice}"\n[[auth.users]]\nname = "bob"\npassword_hash = "${bob}"`,
    );
    createPool(authed, SYSTEM, { name: `${A}-pool`, profile: `${A}-tiny`, size: 1 });
    http = apiClient(authed);
    for (const [user, pw] of [
      ["alice", "alice-pw"],
      ["bob", "bob-pw"],
    ] as const) {
      tokens[user] = (await call("POST", "/v1/tokens", { authorization: basicAuth(user, pw) })).body.token;
    }
  });
  afterAll(async () => {
    await cleanup(authed);
    await authed.close();
  });

  test("the caller owns the request and its VMs; another user cannot cancel it; over the quota is 403", async () => {
    expect((await call("POST", "/v1/requests", {}, { [`${A}-pool`]: 1 })).status).toBe(401);
    const over = await call("POST", "/v1/requests", as("bob"), { [`${A}-pool`]: 4 });
    expect(over.status).toBe(403);
    expect(over.body.error.code).toBe("quota_exceeded");
    const r = await call("POST", "/v1/requests", as("alice"), { [`${A}-pool`]: 2 });
    expect(r.status).toBe(202);
    expect(r.body.owner).toBe("alice");
    for (let i = 0; i < 100; i++) {
      await tick(authed);
      await settle(authed);
      if ((await call("GET", `/v1/requests/${r.body.id}`, as("alice"))).body.status !== "pending") break;
    }
    // A request is its owner's to see (and an admin's): another user is told it does not exist.
    expect((await call("GET", `/v1/requests/${r.body.id}`, as("bob"))).status).toBe(404);
    const done = await call("GET", `/v1/requests/${r.body.id}`, as("alice"));
    expect(done.body.status).toBe("ready");
    for (const vm of done.body.pools[0].vms as string[])
      expect(getMember(authed.db, vm)?.owner).toBe("alice");
    const stolen = await call("DELETE", `/v1/requests/${r.body.id}`, as("bob"));
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.code).toBe("not_owner");
    expect((await call("DELETE", `/v1/requests/${r.body.id}`, as("alice"))).status).toBe(200);
  });
});
