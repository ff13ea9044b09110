// /v1/sizes: create, list, show, delete, every error path, and sizes the config file declares.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { syncDeclared } from "../../../src/core/declared.ts";
import { findSize } from "../../../src/core/sizes.ts";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore(
    testConfig(`
[[sizes]]
name = "cfg-small"
vcpus = 1
memory_mib = 128
`),
  );
  syncDeclared(core);
  api = apiClient(core);
});
afterAll(() => core.close());

const expectError = (r: Reply, status: number, message: RegExp) => {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({
    error: {
      code: { 400: "invalid_request", 404: "not_found", 409: "conflict" }[status],
      message: expect.any(String),
    },
  });
  expect(r.body.error.message).toMatch(message);
};

describe("create and read", () => {
  test("POST answers 201 with the size; both spellings from Kahu's guide are fine", async () => {
    const a = await api.post("/v1/sizes", { name: "1cpu256mb", vcpus: 1, memory_mib: 256 });
    expect(a.status).toBe(201);
    expect(a.body).toEqual({ name: "1cpu256mb", vcpus: 1, memory_mib: 256, origin: "api" });
    expect((await api.post("/v1/sizes", { name: "1cpu256meg", vcpus: 1, memory_mib: 256 })).status).toBe(201);
  });

  test("the bounds are inclusive: from 1 vcpu and 16 MiB up to the host's CPUs and memory", async () => {
    // test:///default's node info is fixed: 16 CPUs, 3 GiB.
    expect((await api.post("/v1/sizes", { name: "tiny", vcpus: 1, memory_mib: 16 })).status).toBe(201);
    expect((await api.post("/v1/sizes", { name: "huge", vcpus: 16, memory_mib: 3072 })).status).toBe(201);
  });

  test("list by name, config-declared ones included; show one", async () => {
    const list = await api.get("/v1/sizes");
    expect(list.status).toBe(200);
    expect(list.body.map((s: { name: string }) => s.name)).toEqual([
      "1cpu256mb",
      "1cpu256meg",
      "cfg-small",
      "huge",
      "tiny",
    ]);
    expect((await api.get("/v1/sizes/cfg-small")).body).toEqual({
      name: "cfg-small",
      vcpus: 1,
      memory_mib: 128,
      origin: "config",
    });
    expect(findSize(core, "tiny")).toEqual({ name: "tiny", vcpus: 1, memory_mib: 16, origin: "api" });
  });

  test("unknown sizes are 404; names match exactly", async () => {
    expectError(await api.get("/v1/sizes/1cpu"), 404, /size 1cpu does not exist/);
    expect(() => findSize(core, "1cpu256")).toThrow("size 1cpu256 does not exist");
  });
});

describe("bad input is 400 and creates nothing", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["invalid name", { name: "Big_One", vcpus: 1, memory_mib: 64 }, /name/],
    ["name ending in -", { name: "big-", vcpus: 1, memory_mib: 64 }, /name/],
    ["vcpus 0", { name: "bad", vcpus: 0, memory_mib: 64 }, /vcpus/],
    ["vcpus 257", { name: "bad", vcpus: 257, memory_mib: 64 }, /vcpus/],
    ["vcpus fractional", { name: "bad", vcpus: 1.5, memory_mib: 64 }, /vcpus/],
    ["memory 15", { name: "bad", vcpus: 1, memory_mib: 15 }, /memory_mib/],
    ["memory too big", { name: "bad", vcpus: 1, memory_mib: 4_194_305 }, /memory_mib/],
    ["memory missing", { name: "bad", vcpus: 1 }, /memory_mib/],
    ["unknown field", { name: "bad", vcpus: 1, memory_mib: 64, disk_gb: 10 }, /disk_gb/],
  ];
  for (const [what, body, message] of cases) {
    test(what, async () => {
      expectError(await api.post("/v1/sizes", body), 400, message);
      expect((await api.get("/v1/sizes/bad")).status).toBe(404);
    });
  }
});

describe("conflicts are 409", () => {
  test("a name that exists", async () => {
    expectError(
      await api.post("/v1/sizes", { name: "tiny", vcpus: 2, memory_mib: 64 }),
      409,
      /size tiny already exists/,
    );
    expect(findSize(core, "tiny").vcpus).toBe(1);
  });
  test("a name the config file declares: neither created, nor deleted", async () => {
    expectError(
      await api.post("/v1/sizes", { name: "cfg-small", vcpus: 2, memory_mib: 64 }),
      409,
      /size cfg-small is declared in the config file/,
    );
    expectError(await api.delete("/v1/sizes/cfg-small"), 409, /declared in the config file/);
    expect(findSize(core, "cfg-small")).toMatchObject({ vcpus: 1, origin: "config" });
  });
  test("deleting a size a profile names", async () => {
    expect((await api.post("/v1/profiles", { name: "usize-prof", size: "huge" })).status).toBe(201);
    expectError(await api.delete("/v1/sizes/huge"), 409, /size huge is used by profile usize-prof/);
    expect((await api.delete("/v1/profiles/usize-prof")).status).toBe(204);
  });
});

describe("delete", () => {
  test("204, then gone", async () => {
    const r = await api.delete("/v1/sizes/huge");
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    expectError(await api.get("/v1/sizes/huge"), 404, /does not exist/);
  });
  test("a VM made from a size does not hold it (VMs copy vcpus and memory)", async () => {
    const at = new Date().toISOString();
    core.db
      .query(
        `INSERT INTO vms (id, name, status, vcpus, memory_mib, boot, created_at, updated_at)
         VALUES ('usize-vm', 'usize-vm', 'stopped', 1, 16, '{"mode":"disk"}', ?, ?)`,
      )
      .run(at, at);
    expect((await api.delete("/v1/sizes/tiny")).status).toBe(204);
    core.db.query("DELETE FROM vms WHERE id = 'usize-vm'").run();
  });
  test("an unknown size is 404", async () => {
    expectError(await api.delete("/v1/sizes/nope"), 404, /size nope does not exist/);
  });
});

test("the OpenAPI document says deleting a size never breaks a VM", async () => {
  const doc = (await api.get("/openapi.json")).body;
  expect(doc.paths["/v1/sizes/{name}"].delete.description).toContain("never changes or breaks a VM");
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/sizes", "/v1/sizes/{name}"]));
});
