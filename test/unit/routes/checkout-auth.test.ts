// Native checkout with [auth] on: the token's user owns what it checks out, others cannot return it, quota holds.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { checkout } from "../../../src/core/pools/checkout.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { deleteVmOp } from "../../../src/core/vms/delete.ts";
import { apiClient, basicAuth } from "../../support/api.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "ucoa";
const POOL = `${P}-deb`;
let core: Awaited<ReturnType<typeof poolCore>>;
let http: ReturnType<typeof apiClient>;
const call = (m: string, path: string, h: Record<string, string> = {}, b?: unknown) =>
  http.send(m, path, h, b);
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const alice = await Bun.password.hash("alice-pw", { algorithm: "argon2id" });
  const bob = await Bun.password.hash("bob-pw", { algorithm: "argon2id" });
  core = await poolCore(
    P,
    `[auth]\nenabled = true\nmax_running_vms_per_user = 2\nvm_lifetime_hours = 3\n[[auth.users]]\nname = "alice"\npassword_hash = "${alice}"\n[[auth.users]]\nname = "bob"\npassword_hash = "${bob}"`,
  );
  createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 4 });
  await fill(core, POOL, 4);
  http = apiClient(core);
  for (const [user, pw] of [
    ["alice", "alice-pw"],
    ["bob", "bob-pw"],
  ] as const) {
    const r = await call("POST", "/v1/tokens", { authorization: basicAuth(user, pw) });
    expect(r.status).toBe(201);
    tokens[user] = r.body.token;
  }
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const as = (user: string) => ({ "x-auth-token": tokens[user] as string });

test("checkout needs a token; the caller owns the VMs; another user neither sees nor returns them; the owner can", async () => {
  expect((await call("POST", "/v1/checkout", {}, { [POOL]: 1 })).status).toBe(401);
  const r = await call("POST", "/v1/checkout", as("alice"), { [POOL]: 1 });
  expect(r.status).toBe(200);
  const vm = r.body.vms[0];
  expect(vm.owner).toBe("alice");
  // Another user's VM is hidden from bob ([auth] public_reads is off): 404, as if it did not exist.
  const stolen = await call("DELETE", `/v1/vms/${vm.name}`, as("bob"));
  expect(stolen.status).toBe(404);
  expect(stolen.body.error.code).toBe("not_found");
  expect((await call("GET", `/v1/vms/${vm.name}`, as("bob"))).status).toBe(404);
  expect((await call("GET", `/v1/vms/${vm.name}`, as("alice"))).status).toBe(200);
  expect((await call("DELETE", `/v1/vms/${vm.name}?wait=true`, as("alice"))).status).toBe(200);
});

test("a token's checkout without a lifetime gets [auth] vm_lifetime_hours; one asked for or none without an owner, the pool's rules", async () => {
  const r = await call("POST", "/v1/checkout", as("alice"), { [POOL]: 1 });
  expect(r.status).toBe(200);
  expect(r.body.vms[0].lifetime_hours).toBe(3);
  const asked = await call("POST", "/v1/checkout?lifetime=5", as("alice"), { [POOL]: 1 });
  expect(asked.body.vms[0].lifetime_hours).toBe(5);
  const anonymous = checkout(core, { [POOL]: 1 }, { owner: null });
  expect(anonymous.vms[0]?.lifetime_hours).toBe(24);
  for (const name of [r.body.vms[0].name, asked.body.vms[0].name, anonymous.vms[0]?.name as string]) {
    await core.ops.wait(deleteVmOp(core, SYSTEM, name).id, 60);
  }
  await fill(core, POOL, 4);
});

test("the per-user quota holds inside the checkout: over it, 403 and nothing is taken", async () => {
  const ready = (await call("GET", `/v1/pools/${POOL}`)).body.counts.ready;
  const over = await call("POST", "/v1/checkout", as("bob"), { [POOL]: 3 });
  expect(over.status).toBe(403);
  expect(over.body.error.code).toBe("quota_exceeded");
  expect((await call("GET", `/v1/pools/${POOL}`)).body.counts.ready).toBe(ready);
  expect((await call("POST", "/v1/checkout", as("bob"), { [POOL]: 2 })).status).toBe(200);
  expect((await call("POST", "/v1/checkout", as("bob"), { [POOL]: 1 })).status).toBe(403);
});
