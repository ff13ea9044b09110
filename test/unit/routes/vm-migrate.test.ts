// Migrate on a single host (no [fleet]): a clear 409 not_in_fleet, the VM untouched; the fleet-only routes do not exist.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { apiClient } from "../../support/api.ts";
import { testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore();
  api = apiClient(core);
  expect(
    (
      await api.post("/v1/vms?wait=true", {
        name: "m1",
        cpus: 1,
        memory_mib: 64,
        root_disk_gb: 1,
        start: false,
      })
    ).status,
  ).toBe(200);
});
afterAll(() => core.close());

test("migrate without a fleet is 409 not_in_fleet and changes nothing", async () => {
  const before = (await api.get("/v1/vms/m1")).body;
  const r = await api.post("/v1/vms/m1/migrate?wait=true", { host: "b" });
  expect(r.status).toBe(409);
  expect(r.body.error.code).toBe("not_in_fleet");
  expect(r.body.error.message).toContain("not in a fleet");
  expect((await api.get("/v1/vms/m1")).body).toEqual(before);
  expect((await core.hv.call("domain.info", { name: "m1" })).state).toBe("shutoff");
});

test("a migrate body is checked: a host is needed, unknown fields are refused", async () => {
  expect((await api.post("/v1/vms/m1/migrate", {})).status).toBe(400);
  expect((await api.post("/v1/vms/m1/migrate", { host: "b", force: true })).status).toBe(400);
  expect((await api.post("/v1/vms/nosuch/migrate", { host: "b" })).status).toBe(404);
});

test("the fleet-only routes are not served on a single host", async () => {
  expect((await api.get("/v1/fleet/departures/m1/disks/0?migration=x")).status).toBe(404);
  expect((await api.post("/v1/fleet/arrivals", { migration: "x", live: false, record: {} })).status).toBe(
    404,
  );
});
