// vmpooler's /api/v1 with [auth] on: /token routes with X-AUTH-TOKEN, checkout owned by the token's user, owners only.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { getMember } from "../../../src/db/pools.ts";
import { createApp } from "../../../src/routes/app.ts";
import { json } from "../../support/http.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "uvma";
const POOL = `${P}-deb`;
let core: Awaited<ReturnType<typeof poolCore>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  const alice = await Bun.password.hash("alice-pw", { algorithm: "argon2id" });
  const bob = await Bun.password.hash("bob-pw", { algorithm: "argon2id" });
  core = await poolCore(
    P,
    // public_reads: vmpooler's GET /vm/<host> is public, so a vmpooler installation turns it on.
    `[auth]\nenabled = true\npublic_reads = true\n[[auth.users]]\nname = "alice"\npassword_hash = "${alice}"\n[[auth.users]]\nname = "bob"\npassword_hash = "${bob}"`,
  );
  createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 3 });
  await fill(core, POOL, 3);
  app = createApp(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;
async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await app.handle(new Request(`http://localhost/api/v1${path}`, init));
  return { status: res.status, body: await json(res), headers: res.headers };
}
async function issue(user: string, pw: string): Promise<string> {
  const r = await call("POST", "/token", { authorization: basic(user, pw) });
  expect(r.status).toBe(200);
  expect(r.body.ok).toBe(true);
  return r.body.token as string;
}
const expectFail = (r: { status: number; body: { ok: boolean; reason: string } }, status: number) => {
  expect(r.status).toBe(status);
  expect(r.body.ok).toBe(false);
  expect(typeof r.body.reason).toBe("string");
};

describe("/token", () => {
  test("POST issues with a password only: 401 ok:false without one, with a wrong one, or with a token", async () => {
    const token = await issue("alice", "alice-pw");
    expect(token).toMatch(/^[\w-]{43}$/);
    const cases: Record<string, string>[] = [
      {},
      { authorization: basic("alice", "nope") },
      { "x-auth-token": token },
    ];
    for (const headers of cases) {
      const r = await call("POST", "/token", headers);
      expectFail(r, 401);
      expect(r.headers.get("www-authenticate")).toBe('Basic realm="berth"');
    }
  });

  test("GET lists the caller's tokens by id with vmpooler's created time, by password or X-AUTH-TOKEN", async () => {
    const token = await issue("bob", "bob-pw");
    const cases: Record<string, string>[] = [
      { authorization: basic("bob", "bob-pw") },
      { "x-auth-token": token },
    ];
    for (const headers of cases) {
      const r = await call("GET", "/token", headers);
      expect(r.status).toBe(200);
      expect(r.body.ok).toBe(true);
      const entries = Object.entries(r.body).filter(([k]) => k !== "ok");
      expect(entries.length).toBeGreaterThan(0);
      for (const [, v] of entries) {
        expect((v as { created: string }).created).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/);
      }
      expect(JSON.stringify(r.body)).not.toContain(token);
    }
    expectFail(await call("GET", "/token"), 401);
    expectFail(await call("GET", "/token", { "x-auth-token": "not-a-token" }), 401);
  });

  test("GET /token/<token> needs no other credential; shows user, times and the user's checked-out VMs", async () => {
    const token = await issue("alice", "alice-pw");
    const out = await call("POST", `/vm/${POOL}`, { "x-auth-token": token });
    expect(out.status).toBe(200);
    const host: string = out.body[POOL].hostname;
    const r = await call("GET", `/token/${token}`);
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(r.body[token]).toMatchObject({ user: "alice", vms: { running: expect.arrayContaining([host]) } });
    expect(r.body[token].created).toMatch(/\+0000$/);
    expect(r.body[token].last).toMatch(/\+0000$/);
    expectFail(await call("GET", "/token/not-a-token"), 404);
  });

  test("DELETE by password or token: own tokens only (another user's is 404); the token stops working", async () => {
    const token = await issue("alice", "alice-pw");
    expectFail(await call("DELETE", `/token/${token}`), 401);
    expectFail(await call("DELETE", `/token/${token}`, { authorization: basic("bob", "bob-pw") }), 404);
    const r = await call("DELETE", `/token/${token}`, { authorization: basic("alice", "alice-pw") });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
    expectFail(await call("GET", `/token/${token}`), 404);
    expectFail(await call("GET", "/token", { "x-auth-token": token }), 401);
    const second = await issue("alice", "alice-pw");
    expect((await call("DELETE", `/token/${second}`, { "x-auth-token": second })).body).toEqual({ ok: true });
  });
});

describe("VMs under auth", () => {
  test("checkout with a token is owned by the token's user; a bad token is 401 ok:false", async () => {
    expectFail(await call("POST", `/vm/${POOL}`, { "x-auth-token": "not-a-token" }), 401);
    expectFail(await call("POST", "/vm", { "x-auth-token": "not-a-token" }, { [POOL]: 1 }), 401);
    await fill(core, POOL, 1);
    const token = await issue("bob", "bob-pw");
    const r = await call("POST", "/vm", { "x-auth-token": token }, { [POOL]: "1" });
    expect(r.status).toBe(200);
    expect(getMember(core.db, r.body[POOL].hostname)?.owner).toBe("bob");
  });

  test("only the owner changes or returns a VM: another token gets 403 ok:false on every VM route", async () => {
    await fill(core, POOL, 1);
    const alice = await issue("alice", "alice-pw");
    const bob = await issue("bob", "bob-pw");
    const host: string = (await call("POST", `/vm/${POOL}`, { "x-auth-token": alice })).body[POOL].hostname;
    const h = { "x-auth-token": bob };
    expectFail(await call("DELETE", `/vm/${host}`, h), 403);
    expectFail(await call("PUT", `/vm/${host}`, h, { lifetime: 2 }), 403);
    expectFail(await call("POST", `/vm/${host}/disk/8`, h), 403);
    expectFail(await call("POST", `/vm/${host}/snapshot`, h), 403);
    expectFail(await call("POST", `/vm/${host}/snapshot/x`, h), 403);
    expectFail(await call("DELETE", `/vm/${host}`), 401);
    expectFail(await call("PUT", `/vm/${host}`, {}, { tags: { a: "b" } }), 401);
    const seen = await call("GET", `/vm/${host}`);
    expect(seen.status).toBe(200);
    // The public view: state, lifetime, tags; no disks or snapshots of someone else's VM.
    expect(seen.body[host].disk).toBeUndefined();
    expect(seen.body[host].snapshots).toBeUndefined();
    expect((await call("PUT", `/vm/${host}`, { "x-auth-token": alice }, { lifetime: 2 })).body).toEqual({
      ok: true,
    });
    expect((await call("DELETE", `/vm/${host}`, { "x-auth-token": alice })).body).toEqual({ ok: true });
  });
});

describe("quota", () => {
  test("a checkout beyond [auth] max_running_vms_per_user is 403 ok:false and takes nothing", async () => {
    const pw = await Bun.password.hash("carol-pw", { algorithm: "argon2id" });
    const q = await poolCore(
      `${P}q`,
      `[auth]\nenabled = true\nmax_running_vms_per_user = 1\n[[auth.users]]\nname = "carol"\npassword_hash = "${pw}"`,
    );
    try {
      createPool(q, SYSTEM, { name: `${P}q-deb`, profile: `${P}q-tiny`, size: 2 });
      await fill(q, `${P}q-deb`, 2);
      const qa = createApp(q);
      const post = async (path: string, headers: Record<string, string>) => {
        const res = await qa.handle(
          new Request(`http://localhost/api/v1${path}`, { method: "POST", headers }),
        );
        return { status: res.status, body: await json(res) };
      };
      const token = (await post("/token", { authorization: basic("carol", "carol-pw") })).body.token;
      expectFail(await post(`/vm/${P}q-deb+${P}q-deb`, { "x-auth-token": token }), 403);
      expect((await post(`/vm/${P}q-deb`, { "x-auth-token": token })).status).toBe(200);
      expectFail(await post(`/vm/${P}q-deb`, { "x-auth-token": token }), 403);
    } finally {
      await cleanup(q);
      await q.close();
    }
  });
});
