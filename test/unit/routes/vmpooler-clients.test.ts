// Replays of vmfloaty 1.8.1, go-vmpooler and vmpooler-shell against the vmpooler front, reading the fields each one reads.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { getMember } from "../../../src/db/pools.ts";
import { createApp } from "../../../src/routes/app.ts";
import { basicAuth } from "../../support/api.ts";
import { cleanup, fill, poolCore, settle } from "../core/pools-support.ts";

const P = "uvcl";
const POOL = `${P}-deb`;
const OTHER = `${P}-cent`;
const DOMAIN = "pooler.example.com";
let core: Awaited<ReturnType<typeof poolCore>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  core = await poolCore(
    P,
    `[vmpooler]\ndomain = "${DOMAIN}"\n[auth]\nenabled = true\npublic_reads = true\n[[auth.users]]\nname = "jdoe"\npassword_hash = "${hash}"`,
  );
  createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 3, alias: [`${P}-debian`] });
  createPool(core, SYSTEM, { name: OTHER, profile: `${P}-tiny`, size: 1 });
  await fill(core, POOL, 3);
  await fill(core, OTHER, 1);
  app = createApp(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const FORM = "application/x-www-form-urlencoded";
const JDOE = basicAuth("jdoe", "pw");
const V = "/api/v1";
async function send(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await app.handle(new Request(`http://localhost${V}${path}`, { method, headers, body }));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe("vmfloaty 1.8.1 (Faraday with :url_encoded: a JSON string body goes out form-encoded)", () => {
  test("token get, get, query, modify, snapshot, revert, list --active, delete, token status and delete", async () => {
    // floaty token get: POST token with basic auth, no body; reads ok and token.
    const issued = await send("POST", "/token", { authorization: JDOE });
    expect(issued.body.ok).toBe(true);
    const token = issued.body.token as string;
    const auth = { "x-auth-token": token };
    // floaty get deb=2 cent: POST vm/<os>+<os>+<os>; reads ok, domain and hostname (string or list).
    await fill(core, POOL, 2);
    const got = await send("POST", `/vm/${POOL}+${POOL}+${OTHER}`, auth);
    expect(got.status).toBe(200);
    expect(got.body.domain).toBe(DOMAIN);
    const [host, second] = got.body[POOL].hostname as string[];
    expect(typeof got.body[OTHER].hostname).toBe("string");
    // floaty query <host>: GET vm/<host>, no token; prints state, template, running/lifetime, tags.
    const q = (await send("GET", `/vm/${host}`)).body[host as string];
    expect(q).toMatchObject({ state: "running", template: POOL, lifetime: 24, domain: DOMAIN, ip: "" });
    expect(q.remaining).toBeGreaterThan(23.9);
    expect(Date.parse(q.end_time) - Date.parse(q.start_time)).toBe(24 * 3_600_000);
    expect(q.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(typeof q.host).toBe("string");
    // floaty modify <host>.<domain> --lifetime 12 --tags '{"user":"jdoe"}'
    const modify = JSON.stringify({ lifetime: 12, tags: { user: "jdoe" } });
    const m = await send("PUT", `/vm/${host}.${DOMAIN}`, { ...auth, "content-type": FORM }, modify);
    expect(m).toEqual({ status: 200, body: { ok: true } });
    expect((await send("GET", `/vm/${host}`)).body[host as string]).toMatchObject({
      lifetime: 12,
      tags: { user: "jdoe" },
    });
    // floaty snapshot and revert: POST with X-AUTH-TOKEN and no body, the host with its domain.
    const snap = await send("POST", `/vm/${host}.${DOMAIN}/snapshot`, auth);
    expect(snap.status).toBe(202);
    const sha = snap.body[host as string].snapshot as string;
    await settle(core);
    expect((await send("POST", `/vm/${host}.${DOMAIN}/snapshot/${sha}`, auth)).status).toBe(202);
    await settle(core);
    // floaty list --active: GET token/<token>; reads vms.running.
    const active = await send("GET", `/token/${token}`);
    expect(active.body[token].vms.running).toEqual(expect.arrayContaining([host, second]));
    // floaty delete <host>.<domain>: DELETE vm/<host> per host; reads ok.
    expect((await send("DELETE", `/vm/${host}.${DOMAIN}`, auth)).body).toEqual({ ok: true });
    expect((await send("GET", `/vm/${host}`)).body[host as string].state).toBe("destroyed");
    await settle(core);
    // floaty token delete: DELETE token/<token> with basic auth.
    expect((await send("DELETE", `/token/${token}`, { authorization: JDOE })).body).toEqual({ ok: true });
  });

  test("floaty status reads pools[*].ready, max, pending and status.message; summary answers", async () => {
    const s = (await send("GET", "/status")).body;
    for (const p of [POOL, OTHER]) {
      expect(s.pools[p]).toMatchObject({
        ready: expect.any(Number),
        max: expect.any(Number),
        pending: expect.any(Number),
        running: expect.any(Number),
      });
    }
    expect(s.pools[POOL].alias).toEqual([`${P}-debian`]);
    expect(s.pools[POOL].lastBoot).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/);
    expect(typeof s.status.message).toBe("string");
    expect(s.status.uptime).toBeGreaterThan(0);
    expect(s.boot.count.total).toBeGreaterThan(0);
    expect((await send("GET", "/summary")).status).toBe(200);
  });

  test("floaty get --ondemand deb: POST ondemandvm/<os>, then polls GET ondemandvm/<id>", async () => {
    const token = (await send("POST", "/token", { authorization: JDOE })).body.token as string;
    const r = await send("POST", `/ondemandvm/${POOL}+${P}-debian`, { "x-auth-token": token });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ ok: true, domain: DOMAIN });
    const poll = await send("GET", `/ondemandvm/${r.body.request_id}`);
    expect([200, 202]).toContain(poll.status);
    expect((await send("DELETE", `/ondemandvm/${r.body.request_id}`, { "x-auth-token": token })).status).toBe(
      200,
    );
  });
});

describe("go-vmpooler (net/http: JSON bodies without a content type; Get panics on a missing string field)", () => {
  test("Create, Get, SetLifetime, SetTags, GetAll, Delete", async () => {
    const token = (await send("POST", "/token", { authorization: JDOE })).body.token as string;
    const auth = { "x-auth-token": token };
    await fill(core, POOL, 1);
    const created = await send("POST", `/vm/${POOL}`, auth);
    const host = created.body[POOL].hostname as string;
    const get = async () => {
      const r = await send("GET", `/vm/${host}`, auth);
      expect(r.body.ok).toBe(true);
      const lvm = r.body[host];
      // The type assertions go-vmpooler makes: each must hold or it panics.
      for (const k of ["domain", "ip", "state", "template"]) expect(typeof lvm[k]).toBe("string");
      for (const k of ["running", "lifetime"]) expect(typeof lvm[k]).toBe("number");
      for (const v of Object.values(lvm.tags)) expect(typeof v).toBe("string");
      return lvm;
    };
    expect((await get()).state).toBe("running");
    expect((await send("PUT", `/vm/${host}`, auth, '{"lifetime":2}')).body.ok).toBe(true);
    expect((await get()).lifetime).toBe(2);
    expect((await send("PUT", `/vm/${host}`, auth, '{"tags":{"department":"engineering"}}')).body.ok).toBe(
      true,
    );
    expect((await get()).tags).toEqual({ department: "engineering" });
    const all = await send("GET", `/token/${token}`, auth);
    expect(all.body[token].vms.running).toContain(host);
    expect((await send("DELETE", `/vm/${host}`, auth)).body.ok).toBe(true);
    await settle(core);
  });

  test("token GetAll: GET /token with basic auth, then GET /token/<id> with basic auth for each listed id", async () => {
    await send("POST", "/token", { authorization: JDOE });
    const list = await send("GET", "/token", { authorization: JDOE });
    const ids = Object.keys(list.body).filter((k) => k !== "ok");
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      expect(list.body[id].created).toMatch(/ \+0000$/);
      expect(list.body[id].last === "never" || / \+0000$/.test(list.body[id].last)).toBe(true);
      const one = await send("GET", `/token/${id}`, { authorization: JDOE });
      expect(one.status).toBe(200);
      expect(one.body[id]).toMatchObject({ user: "jdoe", created: list.body[id].created });
      // An id is no token: without its owner's password it is unknown, and it never authenticates.
      expect((await send("GET", `/token/${id}`)).status).toBe(404);
      expect((await send("POST", `/vm/${POOL}`, { "x-auth-token": id })).status).toBe(401);
    }
  });
});

describe("vmpooler-shell (curl: --data sends the JSON form-encoded)", () => {
  test("platforms (GET vm/), checkout, status, lifespan 4.5 (stored as 4), tokens, destroy", async () => {
    const token = (await send("POST", "/token", { authorization: JDOE })).body.token as string;
    const auth = { "x-auth-token": token };
    expect((await send("GET", "/vm/", auth)).body).toEqual(expect.arrayContaining([POOL, OTHER]));
    await fill(core, POOL, 1);
    const out = await send("POST", `/vm/${POOL}`, auth);
    expect(out.body.domain).toBe(DOMAIN);
    const host = out.body[POOL].hostname as string;
    expect((await send("GET", `/vm/${host}`, auth)).body[host].state).toBe("running");
    const life = await send("PUT", `/vm/${host}`, { ...auth, "content-type": FORM }, '{"lifetime":"4.5"}');
    expect(life.body).toEqual({ ok: true });
    expect(getMember(core.db, host)?.lifetime_hours).toBe(4);
    const tokens = await send("GET", "/token", { authorization: JDOE });
    expect(Object.keys(tokens.body).filter((k) => k !== "ok").length).toBeGreaterThan(0);
    expect((await send("DELETE", `/vm/${host}`, auth)).status).toBe(200);
    await settle(core);
  });
});
