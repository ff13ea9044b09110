// Every example of the seed's vmpooler API document, replayed as curl sends it, on the seed's own pool names.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { powerVm } from "../../../src/core/vms/index.ts";
import { createApp } from "../../../src/routes/app.ts";
import { basicAuth } from "../../support/api.ts";
import { cleanup, fill, poolCore, settle } from "../core/pools-support.ts";

// The seed's platform names (dots and underscores allowed in pool names).
const I386 = "debian-7-i386";
const X64 = "debian-7-x86_64";
let core: Awaited<ReturnType<typeof poolCore>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  const hash = await Bun.password.hash("jdoe-pw", { algorithm: "argon2id" });
  core = await poolCore(
    "uvsd",
    `[vmpooler]\ndomain = "company.com"\n[auth]\nenabled = true\npublic_reads = true\n[[auth.users]]\nname = "jdoe"\npassword_hash = "${hash}"`,
  );
  createPool(core, SYSTEM, { name: I386, profile: "uvsd-tiny", size: 4 });
  createPool(core, SYSTEM, { name: X64, profile: "uvsd-tiny", size: 3 });
  await fill(core, I386, 4);
  await fill(core, X64, 3);
  app = createApp(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

/** What every curl request carries; `-d` adds the form content type. */
const CURL = { "user-agent": "curl/7.88.1", accept: "*/*" };
const DATA = { ...CURL, "content-type": "application/x-www-form-urlencoded" };
const JDOE = { ...CURL, authorization: basicAuth("jdoe", "jdoe-pw") };
async function curl(method: string, path: string, headers: Record<string, string> = CURL, body?: string) {
  const res = await app.handle(new Request(`http://localhost/api/v1${path}`, { method, headers, body }));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe("token operations", () => {
  test("POST, GET list, GET /token/<token>, DELETE with -u jdoe", async () => {
    // curl -X POST -u jdoe --url vmpooler.company.com/api/v1/token
    const issued = await curl("POST", "/token", JDOE);
    expect(issued.body).toEqual({ ok: true, token: expect.any(String) });
    const token = issued.body.token as string;
    // curl -u jdoe --url vmpooler.company.com/api/v1/token
    const list = await curl("GET", "/token", JDOE);
    expect(list.body.ok).toBe(true);
    for (const [k, v] of Object.entries(list.body))
      if (k !== "ok") expect(Object.keys(v as object)).toEqual(["created", "last"]);
    // curl --url vmpooler.company.com/api/v1/token/<token>
    const info = await curl("GET", `/token/${token}`);
    expect(info.body[token]).toMatchObject({
      user: "jdoe",
      created: expect.any(String),
      vms: { running: [] },
    });
    // curl -X DELETE -u jdoe --url vmpooler.company.com/api/v1/token/<token>
    expect((await curl("DELETE", `/token/${token}`, JDOE)).body).toEqual({ ok: true });
  });
});

describe("VM operations", () => {
  test(`curl -d '{"debian-7-i386":"2","debian-7-x86_64":"1"}' --url …/vm: all or nothing, domain company.com`, async () => {
    // curl --url vmpooler.company.com/api/v1/vm
    expect((await curl("GET", "/vm")).body).toEqual(expect.arrayContaining([I386, X64]));
    const r = await curl("POST", "/vm", DATA, JSON.stringify({ [I386]: "2", [X64]: "1" }));
    expect(r.status).toBe(200);
    expect(r.body.domain).toBe("company.com");
    expect(r.body[I386].hostname).toHaveLength(2);
    expect(typeof r.body[X64].hostname).toBe("string");
  });

  test("curl -d --url …/vm/<pool> and …/vm/<pool>+<pool>+<other>: the body is the literal --url", async () => {
    await fill(core, I386, 3);
    await fill(core, X64, 1);
    const one = await curl("POST", `/vm/${I386}`, DATA, "--url");
    expect(one.status).toBe(200);
    expect(typeof one.body[I386].hostname).toBe("string");
    const three = await curl("POST", `/vm/${I386}+${I386}+${X64}`, DATA, "--url");
    expect(three.status).toBe(200);
    expect(three.body[I386].hostname).toHaveLength(2);
    expect(typeof three.body[X64].hostname).toBe("string");
  });

  test("GET, PUT lifetime (no token: 401, as the document says a token is required), PUT tags, DELETE", async () => {
    await fill(core, X64, 1);
    const host = (await curl("POST", `/vm/${X64}`, DATA, "--url")).body[X64].hostname as string;
    // curl --url vmpooler.company.com/api/v1/vm/<hostname>
    const got = await curl("GET", `/vm/${host}`);
    expect(got.body[host]).toMatchObject({ template: X64, state: "running", domain: "company.com" });
    // curl -X PUT -d '{"lifetime":"2"}' --url …/vm/<hostname>
    expect((await curl("PUT", `/vm/${host}`, DATA, '{"lifetime":"2"}')).status).toBe(401);
    // curl -X PUT -d '{"tags":{"department":"engineering","user":"jdoe"}}' --url …/vm/<hostname>
    const tags = '{"tags":{"department":"engineering","user":"jdoe"}}';
    expect((await curl("PUT", `/vm/${host}`, DATA, tags)).body).toEqual({ ok: true });
    expect((await curl("GET", `/vm/${host}`)).body[host].tags).toEqual({
      department: "engineering",
      user: "jdoe",
    });
    // curl -X DELETE --url …/vm/<hostname>
    expect((await curl("DELETE", `/vm/${host}`)).body).toEqual({ ok: true });
    await settle(core);
  });

  test("disk/<size> and snapshot with -H X-AUTH-TOKEN:<token>; the revert example's `curl X POST` sends a GET: 404, nothing reverted", async () => {
    const token = (await curl("POST", "/token", JDOE)).body.token as string;
    const auth = { ...CURL, "x-auth-token": token };
    await fill(core, I386, 1);
    const host = (await curl("POST", `/vm/${I386}`, auth)).body[I386].hostname as string;
    // The test driver cannot hot-plug a disk: stop the VM first.
    await core.ops.wait((await powerVm(core, SYSTEM, host, "stop")).id, 30);
    const disk = await curl("POST", `/vm/${host}/disk/8`, auth);
    expect(disk.status).toBe(202);
    expect(disk.body).toEqual({ ok: true, [host]: { disk: "+8gb" } });
    await settle(core);
    const snap = await curl("POST", `/vm/${host}/snapshot`, auth);
    expect(snap.status).toBe(202);
    const sha = snap.body[host].snapshot as string;
    await settle(core);
    const seen = (await curl("GET", `/vm/${host}`, auth)).body[host];
    expect(seen).toMatchObject({ disk: ["+8gb"], snapshots: [sha], ip: "", domain: "company.com" });
    const typo = await curl("GET", `/vm/${host}/snapshot/${sha}`, auth);
    expect(typo.status).toBe(404);
    expect(typo.body.ok).toBe(false);
    expect(core.ops.list({ target: `vm/${host}`, limit: 100 }).map((o) => o.kind)).not.toContain(
      "vm.snapshot.revert",
    );
    // As the example meant it: POST.
    expect((await curl("POST", `/vm/${host}/snapshot/${sha}`, auth)).body).toEqual({ ok: true });
    await settle(core);
  });
});

describe("status and summary", () => {
  test("GET /status, GET /summary, and curl -G -d 'from=2015-03-10' -d 'to=2015-03-11'", async () => {
    const status = await curl("GET", "/status");
    // The document's keys, and what v1.rb added since (boot, pools, status.uptime).
    expect(Object.keys(status.body)).toEqual(["boot", "capacity", "clone", "pools", "queue", "status"]);
    expect(status.body.pools[X64].max).toBe(3);
    const s = await curl("GET", "/summary");
    expect(Object.keys(s.body).sort()).toEqual(["boot", "clone", "daily", "tag"]);
    const range = await curl("GET", "/summary?from=2015-03-10&to=2015-03-11");
    expect(range.body.daily.map((d: { date: string }) => d.date)).toEqual(["2015-03-10", "2015-03-11"]);
  });
});
