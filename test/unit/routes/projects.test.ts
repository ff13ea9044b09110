// Projects through the native API on the test driver (auth off): create in one, the default, filter, move, /v1/projects, bad names.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { deleteVmOp } from "../../../src/core/vms/delete.ts";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

const env = {} as { core: Awaited<ReturnType<typeof testCore>>; api: ReturnType<typeof apiClient> };
beforeAll(async () => {
  env.core = await testCore(testConfig("[network]\nmanage_bridges = false"));
  env.api = apiClient(env.core);
});
afterAll(async () => {
  // The test driver's domains can outlive this core: delete what this file made.
  for (const { name } of env.core.db.query("SELECT name FROM vms").all() as { name: string }[])
    await env.core.ops.wait(deleteVmOp(env.core, SYSTEM, name).id, 60);
  await env.core.close();
});

const small = { cpus: 1, memory_mib: 64, root_disk_gb: 1, start: false };
const names = (r: { body: { name: string }[] }) => r.body.map((v) => v.name);

describe("projects of VMs", () => {
  test("a VM is created in the project asked for, else in default; every view carries it", async () => {
    const { api } = env;
    expect((await api.post("/v1/vms?wait=true", { name: "prj-a1", project: "acme", ...small })).status).toBe(
      200,
    );
    expect((await api.post("/v1/vms?wait=true", { name: "prj-d1", ...small })).status).toBe(200);
    // Kahu's tenant ids are project names as they are.
    expect((await api.post("/v1/vms?wait=true", { name: "prj-t1", project: "1", ...small })).status).toBe(
      200,
    );
    expect((await api.get("/v1/vms/prj-a1")).body.project).toBe("acme");
    expect((await api.get("/v1/vms/prj-d1")).body.project).toBe("default");
    expect((await api.get("/v1/vms/prj-t1")).body.project).toBe("1");
    const listed = Object.fromEntries(
      (await api.get("/v1/vms")).body.map((v: { name: string; project: string }) => [v.name, v.project]),
    );
    expect(listed).toEqual({ "prj-a1": "acme", "prj-d1": "default", "prj-t1": "1" });
  });

  test("GET /v1/vms?project= lists exactly that project's VMs (exact names)", async () => {
    const { api } = env;
    expect(names(await api.get("/v1/vms?project=acme"))).toEqual(["prj-a1"]);
    expect(names(await api.get("/v1/vms?project=default"))).toEqual(["prj-d1"]);
    expect(names(await api.get("/v1/vms?project=1"))).toEqual(["prj-t1"]);
    expect(names(await api.get("/v1/vms?project=acm"))).toEqual([]); // never a prefix
    expect(names(await api.get("/v1/vms?project=ACME"))).toEqual([]); // never case-folded
    expect(names(await api.get("/v1/vms?project=acme&state=stopped"))).toEqual(["prj-a1"]);
  });

  test("PATCH {project} moves a VM; lists and /v1/projects follow", async () => {
    const { api } = env;
    const moved = await api.patch("/v1/vms/prj-d1", { project: "acme" });
    expect(moved.status).toBe(200);
    expect(moved.body.project).toBe("acme");
    expect(names(await api.get("/v1/vms?project=acme"))).toEqual(["prj-a1", "prj-d1"]);
    expect(names(await api.get("/v1/vms?project=default"))).toEqual([]);
    const projects = await api.get("/v1/projects");
    expect(projects.status).toBe(200);
    // default is always listed (where VMs go unless told), even when empty.
    expect(projects.body).toEqual([
      { name: "1", vms: 1 },
      { name: "acme", vms: 2 },
      { name: "default", vms: 0 },
    ]);
    // A move to the project it is in changes nothing else.
    expect((await api.patch("/v1/vms/prj-d1", { project: "acme" })).body.project).toBe("acme");
    expect((await api.patch("/v1/vms/prj-d1", { project: "default" })).body.project).toBe("default");
  });

  test("bad project names are 400 on create, filter and move, and create nothing", async () => {
    const { api } = env;
    const before = names(await api.get("/v1/vms"));
    for (const bad of ["", "-acme", "acme-", "a b", "a.b", "a/b", "ü", "x".repeat(64)]) {
      const created = await api.post("/v1/vms", { name: "prj-bad", project: bad, ...small });
      expect(created.status).toBe(400);
      expect((await api.get(`/v1/vms?project=${encodeURIComponent(bad)}`)).status).toBe(400);
      const moved = await api.patch("/v1/vms/prj-a1", { project: bad });
      expect(moved.status).toBe(400);
    }
    expect(names(await api.get("/v1/vms"))).toEqual(before);
    expect((await api.get("/v1/vms/prj-a1")).body.project).toBe("acme");
    // The longest name and '_' fit.
    const longest = "a".repeat(63);
    expect((await api.patch("/v1/vms/prj-t1", { project: longest })).body.project).toBe(longest);
    expect((await api.patch("/v1/vms/prj-t1", { project: "team_1" })).body.project).toBe("team_1");
  });

  test("the OpenAPI document describes project on create, list, move and the VM view", async () => {
    const doc = (await env.api.get("/openapi.json")).body;
    const vms = doc.paths["/v1/vms"];
    expect(JSON.stringify(vms.post)).toContain('"project"');
    expect(vms.get.parameters.map((p: { name: string }) => p.name)).toContain("project");
    expect(JSON.stringify(doc.paths["/v1/vms/{name}"].patch)).toContain('"project"');
    expect(doc.paths["/v1/projects"].get).toBeDefined();
  });
});
