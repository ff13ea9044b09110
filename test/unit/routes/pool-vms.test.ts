// GET /v1/checkouts with [auth] on: each user sees their own checked-out pool VMs with owner and expiry, never another's.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { apiClient, basicAuth } from "../../support/api.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "ulea";
const POOL = `${P}-deb`;
let core: Awaited<ReturnType<typeof poolCore>>;
let http: ReturnType<typeof apiClient>;
const tokens: Record<string, string> = {};
const as = (user: string) => ({ "x-auth-token": tokens[user] as string });

beforeAll(async () => {
  const pw = await Bun.password.hash("pw", { algorithm: "argon2id" });
  core = await poolCore(
    P,
    `[auth]\nenabled = true\n[[auth.users]]\nname = "alice"\npassword_hash = "${pw}"\n[[auth.users]]\nname = "bob"\npassword_hash = "${pw}"\n[[auth.users]]\nname = "root"\nadmin = true\npassword_hash = "${pw}"`,
  );
  createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 2 });
  await fill(core, POOL, 2);
  http = apiClient(core);
  for (const user of ["alice", "bob", "root"]) {
    const r = await http.send("POST", "/v1/tokens", { authorization: basicAuth(user, "pw") });
    expect(r.status).toBe(201);
    tokens[user] = r.body.token;
  }
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

test("the owner sees its checkout with pool, owner and expiry; another user and anonymous see none; an admin sees every member", async () => {
  const out = await http.send("POST", "/v1/checkout", as("alice"), { [POOL]: 1 });
  expect(out.status).toBe(200);
  const vm = out.body.vms[0];
  const mine = await http.send("GET", "/v1/checkouts", as("alice"));
  expect(mine.status).toBe(200);
  expect(mine.body).toEqual([
    {
      vm: vm.name,
      pool: POOL,
      status: "checked_out",
      owner: "alice",
      checked_out_at: vm.checked_out_at,
      expires_at: vm.expires_at,
    },
  ]);
  expect((await http.send("GET", "/v1/checkouts", as("bob"))).body).toEqual([]);
  expect((await http.send("GET", "/v1/checkouts", {})).body).toEqual([]);
  const all = (await http.send("GET", "/v1/checkouts", as("root"))).body as { vm: string; status: string }[];
  expect(all.map((l) => l.status).sort()).toEqual(["checked_out", "ready"]);
  expect(all.find((l) => l.vm === vm.name)?.status).toBe("checked_out");
});
