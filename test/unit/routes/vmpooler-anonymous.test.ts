// vmpooler's anonymous checkout with [auth] on: beaker's and curl's requests without a token; owned VMs stay owner-only.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { issueToken } from "../../../src/core/auth/index.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { getMember } from "../../../src/db/pools.ts";
import { createApp } from "../../../src/routes/app.ts";
import { cleanup, fill, poolCore, settle } from "../core/pools-support.ts";

const P = "uvan";
const POOL = `${P}-deb`;
const DOMAIN = "vms.example.com";
let core: Awaited<ReturnType<typeof poolCore>>;
let app: ReturnType<typeof createApp>;
let alice: string;
let bob: string;
/** A users table; the hash is real but the tests authenticate with tokens issued in core. */
let HASH = "";
beforeAll(async () => {
  HASH = await Bun.password.hash("pw", { algorithm: "argon2id" });
  const users = ["alice", "bob"]
    .map((n) => `[[auth.users]]\nname = "${n}"\npassword_hash = "${HASH}"\n`)
    .join("");
  // public_reads off: an anonymous lease must still be visible (and returnable) to the anonymous client.
  core = await poolCore(P, `[vmpooler]\ndomain = "${DOMAIN}"\n[auth]\nenabled = true\n${users}`);
  createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 3, lifetime: 6 });
  await fill(core, POOL, 3);
  app = createApp(core);
  alice = issueToken(core, { name: "alice", admin: false, tokenId: null }).token;
  bob = issueToken(core, { name: "bob", admin: false, tokenId: null }).token;
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const FORM = "application/x-www-form-urlencoded";
/** One request as a client sends it: exact method, path, headers and body. */
async function send(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** curl -d --url vmpooler/api/v1/vm/<pool>: the body is the literal `--url`, form-encoded, no token. */
async function anonymousCheckout(): Promise<string> {
  await fill(core, POOL, 1);
  const r = await send("POST", `/api/v1/vm/${POOL}`, { "content-type": FORM }, "--url");
  expect(r.status).toBe(200);
  return r.body[POOL].hostname as string;
}

describe("without a token", () => {
  test("curl -d --url checks out a VM nobody owns; beaker's POST /vm/ JSON (form content type) too", async () => {
    const host = await anonymousCheckout();
    expect(getMember(core.db, host)).toMatchObject({ status: "checked_out", owner: null });
    await fill(core, POOL, 2);
    const beaker = await send(
      "POST",
      "/api/v1/vm/",
      { "content-type": FORM },
      JSON.stringify({ [POOL]: "2" }),
    );
    expect(beaker.status).toBe(200);
    expect(beaker.body).toMatchObject({ ok: true, domain: DOMAIN });
    expect(beaker.body[POOL].hostname).toHaveLength(2);
    // vmpooler checks a token on checkout only when one is sent: a wrong one is 401.
    const wrong = await send("POST", `/api/v1/vm/${POOL}`, { "x-auth-token": "wrong" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.ok).toBe(false);
  });

  test("beaker tags its host with null and empty values, no token: skipped, not a 400; the pool tag stays berth's", async () => {
    const host = await anonymousCheckout();
    const tags = { beaker_version: "4.1", jenkins_build_url: null, department: "", roles: "agent, master" };
    const r = await send("PUT", `/api/v1/vm/${host}`, { "content-type": FORM }, JSON.stringify({ tags }));
    expect(r).toEqual({ status: 200, body: { ok: true } });
    const seen = await send("GET", `/api/v1/vm/${host}.${DOMAIN}`);
    expect(seen.status).toBe(200);
    expect(seen.body[host].tags).toEqual({ beaker_version: "4.1", roles: "agent, master" });
    expect(seen.body[host]).toMatchObject({ state: "running", lifetime: 6, ip: "", domain: DOMAIN });
  });

  test("a lifetime needs a token (401), as in v1.rb; with a token, only an admin changes an anonymous lease", async () => {
    const host = await anonymousCheckout();
    const body = JSON.stringify({ lifetime: "2" });
    expect((await send("PUT", `/api/v1/vm/${host}`, { "content-type": FORM }, body)).status).toBe(401);
    // bob does not own it and public_reads is off: hidden from him (404), as any VM that is not his.
    expect((await send("PUT", `/api/v1/vm/${host}`, { "x-auth-token": bob }, body)).status).toBe(404);
    expect(getMember(core.db, host)?.lifetime_hours).toBe(6);
  });

  test("beaker returns <host>.<domain> without a token: destroyed, a second DELETE 404 (never 409), then gone", async () => {
    const host = await anonymousCheckout();
    const r = await send("DELETE", `/api/v1/vm/${host}.${DOMAIN}`);
    expect(r).toEqual({ status: 200, body: { ok: true } });
    const seen = await send("GET", `/api/v1/vm/${host}`);
    expect(seen.body[host].state).toBe("destroyed");
    const again = await send("DELETE", `/api/v1/vm/${host}`);
    expect(again.status).toBe(404);
    expect(again.body.ok).toBe(false);
    await settle(core);
    expect((await send("GET", `/api/v1/vm/${host}`)).status).toBe(404);
  });

  test("anyone may return an anonymous lease through vmpooler, a token's user too; the native API still refuses them", async () => {
    const host = await anonymousCheckout();
    const native = await send("DELETE", `/v1/vms/${host}`, { "x-auth-token": bob });
    expect([403, 404]).toContain(native.status);
    expect((await send("DELETE", `/v1/vms/${host}`)).status).toBe(401);
    expect(
      (
        await send(
          "PATCH",
          `/v1/vms/${host}`,
          { "x-auth-token": bob, "content-type": "application/json" },
          '{"tags":{"a":"b"}}',
        )
      ).status,
    ).not.toBe(200);
    expect(getMember(core.db, host)?.status).toBe("checked_out");
    expect((await send("DELETE", `/api/v1/vm/${host}`, { "x-auth-token": bob })).status).toBe(200);
    await settle(core);
  });

  test("snapshots, disks and on-demand requests still need a token", async () => {
    const host = await anonymousCheckout();
    for (const [m, p] of [
      ["POST", `/api/v1/vm/${host}/snapshot`],
      ["POST", `/api/v1/vm/${host}/disk/8`],
      ["POST", `/api/v1/ondemandvm/${POOL}`],
    ] as const) {
      expect((await send(m, p)).status).toBe(401);
    }
  });
});

describe("a VM checked out with a token stays its owner's", () => {
  test("no token or another user's token: hidden (404, public_reads off; 401 with it: vmpooler-auth); the owner: ok", async () => {
    await fill(core, POOL, 1);
    const out = await send("POST", `/api/v1/vm/${POOL}`, { "x-auth-token": alice });
    const host = out.body[POOL].hostname as string;
    expect(getMember(core.db, host)?.owner).toBe("alice");
    const tags = JSON.stringify({ tags: { a: "b" } });
    expect((await send("DELETE", `/api/v1/vm/${host}`)).status).toBe(404);
    expect((await send("PUT", `/api/v1/vm/${host}`, { "content-type": FORM }, tags)).status).toBe(404);
    expect((await send("GET", `/api/v1/vm/${host}`)).status).toBe(404);
    expect((await send("DELETE", `/api/v1/vm/${host}`, { "x-auth-token": bob })).status).toBe(404);
    expect((await send("PUT", `/api/v1/vm/${host}`, { "x-auth-token": bob }, tags)).status).toBe(404);
    expect((await send("PUT", `/api/v1/vm/${host}`, { "x-auth-token": alice }, tags)).status).toBe(200);
    expect((await send("DELETE", `/api/v1/vm/${host}`, { "x-auth-token": alice })).status).toBe(200);
    await settle(core);
  });
});

test("[vmpooler] anonymous_checkout decides: true (the default) checks out without a token, false is 401", async () => {
  await fill(core, POOL, 1);
  expect((await send("POST", `/api/v1/vm/${POOL}`)).status).toBe(200);
  const strict = await poolCore(
    `${P}s`,
    `[vmpooler]\nanonymous_checkout = false\n[auth]\nenabled = true\n[[auth.users]]\nname = "a"\npassword_hash = "${HASH}"`,
  );
  try {
    createPool(strict, SYSTEM, { name: `${P}s-deb`, profile: `${P}s-tiny`, size: 1 });
    await fill(strict, `${P}s-deb`, 1);
    const res = await createApp(strict).handle(
      new Request(`http://localhost/api/v1/vm/${P}s-deb`, { method: "POST" }),
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { ok: boolean }).ok).toBe(false);
  } finally {
    await cleanup(strict);
    await strict.close();
  }
});
