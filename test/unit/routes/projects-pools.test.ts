// Pools and projects: pool VMs live in default, so a user whose projects exclude default cannot check out or ask for them, and none moves.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { issueToken, SYSTEM } from "../../../src/core/auth/index.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { listMembers } from "../../../src/db/pools.ts";
import { apiClient } from "../../support/api.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "prjp";
const POOL = `${P}-deb`;
type Who = "alice" | "dora" | "root";
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;
const tok = {} as Record<Who, string>;

beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  const user = (name: string, extra: string) =>
    `[[auth.users]]\nname = "${name}"\npassword_hash = "${hash}"\n${extra}\n`;
  core = await poolCore(
    P,
    "[auth]\nenabled = true\n" +
      user("alice", 'projects = ["a"]') +
      user("dora", 'projects = ["default", "a"]') +
      user("root", "admin = true"),
  );
  createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 2 });
  await fill(core, POOL, 2);
  api = apiClient(core);
  for (const n of ["alice", "dora", "root"] as const)
    tok[n] = issueToken(core, { name: n, admin: n === "root", tokenId: null }).token;
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const send = (who: Who, method: string, path: string, body?: unknown) =>
  api.send(method, path, { "x-auth-token": tok[who] }, body);
const ready = () => listMembers(core.db, POOL).filter((m) => m.status === "ready").length;

test("a user whose projects exclude default gets 403 forbidden naming it for checkout and requests; nothing is taken", async () => {
  for (const path of ["/v1/checkout", "/v1/requests"]) {
    const r = await send("alice", "POST", path, { [POOL]: 1 });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("forbidden");
    expect(r.body.error.message).toContain("project default ");
  }
  expect(ready()).toBe(2);
  expect(core.db.query("SELECT count(*) AS n FROM pool_requests").get()).toEqual({ n: 0 });
});

test("a user with default among their projects checks out a VM in default; no one moves a pool VM (409)", async () => {
  const r = await send("dora", "POST", "/v1/checkout", { [POOL]: 1 });
  expect(r.status).toBe(200);
  const name = r.body.vms[0].name as string;
  expect((await send("dora", "GET", `/v1/vms/${name}`)).body.project).toBe("default");
  for (const who of ["dora", "root"] as const) {
    const moved = await send(who, "PATCH", `/v1/vms/${name}`, { project: "a" });
    expect(moved.status).toBe(409);
    expect(moved.body.error.message).toContain(`belongs to pool ${POOL}`);
  }
  const ready = listMembers(core.db, POOL).find((m) => m.status === "ready")?.vm_name as string;
  expect((await send("root", "PATCH", `/v1/vms/${ready}`, { project: "a" })).status).toBe(409);
  expect((await send("root", "GET", `/v1/vms/${ready}`)).body.project).toBe("default");
});
