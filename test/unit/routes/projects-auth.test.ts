// Users limited to projects ([[auth.users]] projects) through the native API: create, see, move, operations; admins unlimited.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { issueToken, SYSTEM } from "../../../src/core/auth/index.ts";
import { deleteVmOp } from "../../../src/core/vms/delete.ts";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";
import type { Json } from "../../support/http.ts";
import { insertVmRow } from "../../support/vm-rows.ts";

type Who = "alice" | "bob" | "root";
let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
const tok = {} as Record<Who, string>;

beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  const user = (name: string, extra: string) =>
    `[[auth.users]]\nname = "${name}"\npassword_hash = "${hash}"\n${extra}\n`;
  core = await testCore(
    testConfig(
      "[network]\nmanage_bridges = false\n[auth]\nenabled = true\n" +
        user("alice", 'projects = ["a", "b"]') +
        user("bob", "") +
        // An admin's list does not limit them: admins always use any project.
        user("root", 'admin = true\nprojects = ["x"]'),
    ),
  );
  api = apiClient(core);
  for (const n of ["alice", "bob", "root"] as const)
    tok[n] = issueToken(core, { name: n, admin: n === "root", tokenId: null }).token;
  // Alice's own VM in a project she is not limited to (made before her limit, say) and bob's in a and default.
  insertVmRow(core.db, { id: "pa-c", name: "pj-alice-c", owner: "alice", project: "c" });
  insertVmRow(core.db, { id: "pb-a", name: "pj-bob-a", owner: "bob", project: "a" });
  insertVmRow(core.db, { id: "pb-d", name: "pj-bob-d", owner: "bob" });
});
afterAll(async () => {
  for (const { name } of core.db.query("SELECT name FROM vms").all() as { name: string }[])
    await core.ops.wait(deleteVmOp(core, SYSTEM, name).id, 60);
  await core.close();
});

const send = (who: Who, method: string, path: string, body?: unknown) =>
  api.send(method, path, { "x-auth-token": tok[who] }, body);
const small = { cpus: 1, memory_mib: 64, root_disk_gb: 1, start: false };
const names = (body: Json) => (body as { name: string }[]).map((v) => v.name);
const vmCount = () => (core.db.query("SELECT count(*) AS n FROM vms").get() as { n: number }).n;

function expectForbidden(r: { status: number; body: Json }, project: string): void {
  expect(r.status).toBe(403);
  expect(r.body.error.code).toBe("forbidden");
  expect(r.body.error.message).toContain(`project ${project} `);
}

describe("a user limited to projects", () => {
  test("creates VMs only in their projects: elsewhere, default included, 403 forbidden naming it", async () => {
    expect(
      (await send("alice", "POST", "/v1/vms?wait=true", { name: "pj-a1", project: "a", ...small })).status,
    ).toBe(200);
    expect(
      (await send("alice", "POST", "/v1/vms?wait=true", { name: "pj-b1", project: "b", ...small })).status,
    ).toBe(200);
    const before = vmCount();
    expectForbidden(await send("alice", "POST", "/v1/vms", { name: "pj-x1", ...small }), "default");
    expectForbidden(await send("alice", "POST", "/v1/vms", { name: "pj-x2", project: "c", ...small }), "c");
    // Exact names: no prefix, no case folding.
    expectForbidden(await send("alice", "POST", "/v1/vms", { name: "pj-x3", project: "aa", ...small }), "aa");
    expectForbidden(await send("alice", "POST", "/v1/vms", { name: "pj-x4", project: "A", ...small }), "A");
    expect(vmCount()).toBe(before);
    expect((await send("alice", "GET", "/v1/vms/pj-a1")).body).toMatchObject({ project: "a" });
  });

  test("sees only the VMs in their projects, even their own elsewhere (404, as if absent)", async () => {
    expect(names((await send("alice", "GET", "/v1/vms")).body)).toEqual(["pj-a1", "pj-b1"]);
    expect(names((await send("alice", "GET", "/v1/vms?project=c")).body)).toEqual([]);
    const hidden = await send("alice", "GET", "/v1/vms/pj-alice-c");
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe("not_found");
    // Nor may they act on it: hidden, not refused.
    expect((await send("alice", "DELETE", "/v1/vms/pj-alice-c")).status).toBe(404);
    expect((await send("alice", "POST", "/v1/vms/pj-alice-c/start")).status).toBe(404);
    expect((await send("alice", "PATCH", "/v1/vms/pj-alice-c", { description: "x" })).status).toBe(404);
    // The ownership rule still holds inside their projects: bob's VM in a stays hidden (no public_reads).
    expect((await send("alice", "GET", "/v1/vms/pj-bob-a")).status).toBe(404);
  });

  test("moves a VM only between their projects (403 naming the target; 404 out of a project not theirs)", async () => {
    const moved = await send("alice", "PATCH", "/v1/vms/pj-a1", { project: "b" });
    expect(moved.status).toBe(200);
    expect(moved.body.project).toBe("b");
    expectForbidden(await send("alice", "PATCH", "/v1/vms/pj-a1", { project: "c" }), "c");
    expectForbidden(
      await send("alice", "PATCH", "/v1/vms/pj-a1", { project: "default", description: "no" }),
      "default",
    );
    const after = (await send("alice", "GET", "/v1/vms/pj-a1")).body;
    expect(after).toMatchObject({ project: "b", description: "" }); // a refused move changes nothing
    expect((await send("alice", "PATCH", "/v1/vms/pj-alice-c", { project: "a" })).status).toBe(404);
    // Another user's VM in their project: the ownership rule answers.
    expect((await send("alice", "PATCH", "/v1/vms/pj-bob-a", { project: "b" })).status).toBe(404);
    expect((await send("alice", "PATCH", "/v1/vms/pj-a1", { project: "a" })).body.project).toBe("a");
  });

  test("/v1/projects lists exactly their projects with the VMs they see", async () => {
    expect((await send("alice", "GET", "/v1/projects")).body).toEqual([
      { name: "a", vms: 1 },
      { name: "b", vms: 1 },
    ]);
  });

  test("operations on VMs outside their projects leave their list, and show and wait are 404", async () => {
    const created = await send("alice", "POST", "/v1/vms?wait=true", {
      name: "pj-op",
      project: "a",
      ...small,
    });
    expect(created.status).toBe(200);
    const id = created.body.id as string;
    const listed = async () =>
      (await send("alice", "GET", "/v1/operations")).body.map((o: { id: string }) => o.id);
    expect(await listed()).toContain(id);
    expect((await send("alice", "GET", `/v1/operations/${id}`)).status).toBe(200);
    // An admin moves her VM out of her projects: its operations go with it, though she started them.
    expect((await send("root", "PATCH", "/v1/vms/pj-op", { project: "c" })).status).toBe(200);
    expect(await listed()).not.toContain(id);
    expect((await send("alice", "GET", `/v1/operations/${id}`)).status).toBe(404);
    expect((await send("alice", "GET", `/v1/operations/${id}/wait?timeout=0`)).status).toBe(404);
    expect((await send("alice", "DELETE", `/v1/operations/${id}`)).status).toBe(404);
    expect((await send("alice", "GET", `/v1/operations?target=vm/pj-op`)).body).toEqual([]);
    // Her other operations stay.
    const other = (await send("alice", "GET", "/v1/operations?target=vm/pj-b1")).body;
    expect(other.length).toBe(1);
    expect((await send("root", "GET", `/v1/operations/${id}`)).status).toBe(200);
  });
});

describe("users not limited, and admins", () => {
  test("a user without projects creates anywhere and sees their own VMs in every project", async () => {
    expect(
      (await send("bob", "POST", "/v1/vms?wait=true", { name: "pj-bob-z", project: "z", ...small })).status,
    ).toBe(200);
    expect(names((await send("bob", "GET", "/v1/vms")).body)).toEqual(["pj-bob-a", "pj-bob-d", "pj-bob-z"]);
    expect((await send("bob", "PATCH", "/v1/vms/pj-bob-z", { project: "y" })).body.project).toBe("y");
    expect((await send("bob", "GET", "/v1/projects")).body).toEqual([
      { name: "a", vms: 1 },
      { name: "default", vms: 1 },
      { name: "y", vms: 1 },
    ]);
  });

  test("admins use any project whatever their list says, see and move every VM", async () => {
    expect(
      (await send("root", "POST", "/v1/vms?wait=true", { name: "pj-root", project: "q", ...small })).status,
    ).toBe(200);
    expect(
      (await send("root", "GET", "/v1/vms?project=c")).body.map((v: { name: string }) => v.name),
    ).toEqual(["pj-alice-c", "pj-op"]);
    expect((await send("root", "PATCH", "/v1/vms/pj-alice-c", { project: "b" })).status).toBe(200);
    // Moved into her projects, her VM shows to alice again.
    expect((await send("alice", "GET", "/v1/vms/pj-alice-c")).body.project).toBe("b");
    const all = (await send("root", "GET", "/v1/projects")).body.map((p: { name: string }) => p.name);
    expect(all).toEqual(["a", "b", "c", "default", "q", "y"]);
  });
});
