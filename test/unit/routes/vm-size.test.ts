// A VM's size: the named size it was made to (the request's or its profile's), gone once numbers decide instead.
import { expect, test } from "bun:test";
import { apiOnFreshCore } from "../../support/api.ts";

const t = apiOnFreshCore();

test("a VM shows the size it was made to until its cpus or memory change", async () => {
  const { api } = t;
  expect((await api.post("/v1/sizes", { name: "usz-small", vcpus: 1, memory_mib: 64 })).status).toBe(201);
  expect((await api.post("/v1/profiles", { name: "usz-p", size: "usz-small", root_disk_gb: 1 })).status).toBe(
    201,
  );
  expect((await api.post("/v1/profiles", { name: "usz-q", size: "usz-small", cpus: 2 })).status).toBe(201);
  const make = async (body: Record<string, unknown>) => {
    const r = await api.post("/v1/vms?wait=true", { start: false, root_disk_gb: 1, ...body });
    expect(r.status).toBe(200);
    return (await api.get(`/v1/vms/${r.body.result.name}`)).body;
  };
  expect((await make({ name: "usz-a", size: "usz-small" })).size).toBe("usz-small");
  expect((await make({ name: "usz-b", profile: "usz-p" })).size).toBe("usz-small");
  expect((await make({ name: "usz-c", profile: "usz-p", cpus: 2 })).size).toBeNull();
  expect((await make({ name: "usz-d", profile: "usz-q" })).size).toBeNull();
  expect((await make({ name: "usz-e", cpus: 1, memory_mib: 64 })).size).toBeNull();
  expect((await api.patch("/v1/vms/usz-a", { memory_mib: 64 })).status).toBe(200);
  expect((await api.get("/v1/vms/usz-a")).body.size).toBe("usz-small");
  expect((await api.patch("/v1/vms/usz-a", { memory_mib: 128 })).status).toBe(200);
  expect((await api.get("/v1/vms/usz-a")).body.size).toBeNull();
  for (const n of ["a", "b", "c", "d", "e"]) await api.delete(`/v1/vms/usz-${n}?wait=true`);
});
