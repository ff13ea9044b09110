// Recover on a single host (no [fleet]): a clear 409 not_in_fleet, nothing changed; the body is checked; the fence entry's form.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { blocklistEntry } from "../../../src/core/fleet/fence.ts";
import { apiClient } from "../../support/api.ts";
import { testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore();
  api = apiClient(core);
  const made = await api.post("/v1/vms?wait=true", {
    name: "r1",
    cpus: 1,
    memory_mib: 64,
    root_disk_gb: 1,
    start: false,
  });
  expect(made.status).toBe(200);
});
afterAll(() => core.close());

test("recover without a fleet is 409 not_in_fleet and changes nothing", async () => {
  const before = (await api.get("/v1/vms/r1")).body;
  const r = await api.post("/v1/vms/r1/recover?wait=true", { host: "b" });
  expect([r.status, r.body.error.code]).toEqual([409, "not_in_fleet"]);
  expect(r.body.error.message).toContain("not in a fleet");
  expect((await api.get("/v1/vms/r1")).body).toEqual(before);
});

test("a recover body needs a host and nothing else", async () => {
  expect((await api.post("/v1/vms/r1/recover", {})).status).toBe(400);
  expect((await api.post("/v1/vms/r1/recover", { host: "b", force: true })).status).toBe(400);
});

test("a fence blocklists every Ceph client of the address (port 0, nonce 0), in the form profile rbd may add", () => {
  const capRule = /^[^/]+\/[0-9]+$/;
  expect(blocklistEntry("10.0.0.7")).toBe("10.0.0.7:0/0");
  expect(blocklistEntry("fd00::7")).toBe("[fd00::7]:0/0");
  for (const a of ["10.0.0.7", "fd00::7"]) expect(blocklistEntry(a)).toMatch(capRule);
});
