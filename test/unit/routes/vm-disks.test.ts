// /v1/vms/{name}/disks on the test driver: add in SCSI order, refusals, and removal.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { apiClient } from "../../support/api.ts";
import { testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore();
  api = apiClient(core);
  const r = await api.post("/v1/vms?wait=true", {
    name: "d1",
    cpus: 1,
    memory_mib: 64,
    root_disk_gb: 1,
    start: false,
  });
  expect(r.status).toBe(200);
});
afterAll(() => core.close());

const GiB = 2 ** 30;
const volumes = async () =>
  (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name);

test("disks added to a stopped VM take the next SCSI targets and land in its definition", async () => {
  const a = await api.post("/v1/vms/d1/disks?wait=true", { name: "data", size_gb: 2 });
  expect(a.status).toBe(200);
  expect(a.body.result).toMatchObject({ name: "data", target: "sdb", size: 2 * GiB });
  const b = await api.post("/v1/vms/d1/disks?wait=true", { size_gb: 1 });
  expect(b.body.result.target).toBe("sdc");
  const list = (await api.get("/v1/vms/d1/disks")).body;
  expect(list.map((d: { target: string }) => d.target)).toEqual(["sda", "sdb", "sdc"]);
  const xml = await core.hv.call("domain.xml", { name: "d1", flags: 2 });
  expect(xml).toContain("dev='sdc'");
});

test("refusals: duplicate name 409, shrink 400, same size 409, root without force 409, unknown 404", async () => {
  expect((await api.post("/v1/vms/d1/disks", { name: "data", size_gb: 1 })).status).toBe(409);
  expect((await api.post("/v1/vms/d1/disks", { name: "x" })).status).toBe(400);
  expect((await api.post("/v1/vms/d1/disks", { name: "x", size_gb: 1, bus: "ide" })).status).toBe(400);
  const shrink = await api.patch("/v1/vms/d1/disks/data", { size_gb: 1 });
  expect(shrink.status).toBe(400);
  expect(shrink.body.error.message).toContain("shrinking");
  expect((await api.patch("/v1/vms/d1/disks/data", { size_gb: 2 })).status).toBe(409);
  const root = await api.delete("/v1/vms/d1/disks/root");
  expect(root.status).toBe(409);
  expect(root.body.error.message).toContain("force_root=true");
  expect((await api.delete("/v1/vms/d1/disks/nope")).status).toBe(404);
  expect((await api.get("/v1/vms/nope/disks")).status).toBe(404);
});

test("growing offline asks libvirt to resize the volume (the test driver refuses: the error is the operation's)", async () => {
  const r = await api.patch("/v1/vms/d1/disks/data?wait=true", { size_gb: 3 });
  expect(r.status).toBe(502);
  expect(r.body.error.code).toBe("hypervisor_error");
  expect((await api.get("/v1/vms/d1/disks")).body[1].size).toBe(2 * GiB);
});

test("hot-plug on a running VM: the test driver cannot attach, and the failed add leaves nothing", async () => {
  await api.post("/v1/vms/d1/start?wait=true");
  const before = await volumes();
  const r = await api.post("/v1/vms/d1/disks?wait=true", { name: "hot", size_gb: 1 });
  expect(r.status).toBe(502);
  expect(await volumes()).toEqual(before);
  expect((await api.get("/v1/vms/d1/disks")).body.map((d: { name: string }) => d.name)).not.toContain("hot");
  await api.post("/v1/vms/d1/stop?wait=true");
});

test("removing a disk detaches it and deletes its volume; the others keep their targets", async () => {
  const data = (await api.get("/v1/vms/d1/disks")).body[1];
  const r = await api.delete("/v1/vms/d1/disks/data?wait=true");
  expect(r.status).toBe(200);
  expect(await volumes()).not.toContain(data.volume);
  const left = (await api.get("/v1/vms/d1/disks")).body;
  expect(left.map((d: { target: string }) => d.target)).toEqual(["sda", "sdc"]);
  const root = await api.delete("/v1/vms/d1/disks/root?wait=true&force_root=true");
  expect(root.status).toBe(200);
});
