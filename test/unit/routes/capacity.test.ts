// Capacity through every front on the test driver (16 CPUs, 3 GiB, 100 GiB pools): 400, 409 and 507, nothing left behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tick } from "../../../src/core/pools/tick.ts";
import { ensureStoragePool } from "../../../src/core/storage-pool.ts";
import { apiOnFreshCore, type Reply } from "../../support/api.ts";

const POOL = "cap-routes-pool";
// Totals of exactly the host: 16 vCPUs and 3072 MiB; disks of 60 GiB at most.
const env = apiOnFreshCore(
  `[network]\nmanage_bridges = false\n[storage]\npool = "${POOL}"\n[capacity]\nvcpu_overcommit = 1\nmemory_overcommit = 1\nmax_disk_gb = 60`,
);
beforeAll(() => ensureStoragePool(env.core));
afterAll(async () => {
  await env.core.hv.call("pool.destroy", { pool: POOL }).catch(() => undefined);
  await env.core.hv.call("pool.undefine", { pool: POOL }).catch(() => undefined);
});

const volumes = async () => (await env.core.hv.call("volume.list", { pool: POOL })).map((v) => v.name).sort();
const domains = async () => (await env.core.hv.call("domain.list", {})).map((d) => d.name).sort();
const rows = () =>
  (env.core.db.query("SELECT name FROM vms ORDER BY name").all() as { name: string }[]).map((r) => r.name);
const snapshot = async () => ({ vols: await volumes(), doms: await domains(), rows: rows() });

function expectError(r: Reply, status: number, code: string, message: RegExp): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(r.body.error.message).toMatch(message);
}
const create = (body: Record<string, unknown>) =>
  env.api.post("/v1/vms?wait=true", { start: false, ...body });
const remove = async (name: string) =>
  expect((await env.api.delete(`/v1/vms/${name}?wait=true`)).status).toBe(200);

describe("one VM larger than the host", () => {
  test("more vCPUs or memory than the host has is 400 and creates nothing", async () => {
    const before = await snapshot();
    const base = { name: "cap-big", root_disk_gb: 1 };
    expectError(
      await create({ ...base, cpus: 17, memory_mib: 64 }),
      400,
      "invalid_request",
      /17 vcpus is more than the host's 16 CPUs/,
    );
    expectError(
      await create({ ...base, cpus: 1, memory_mib: 3073 }),
      400,
      "invalid_request",
      /3073 MiB of memory is more than the host's 3072 MiB/,
    );
    expect(await snapshot()).toEqual(before);
  });

  test("a size or profile that no VM could ever have on this host is 400", async () => {
    expectError(
      await env.api.post("/v1/sizes", { name: "cap-17", vcpus: 17, memory_mib: 64 }),
      400,
      "invalid_request",
      /size cap-17: 17 vcpus/,
    );
    expectError(
      await env.api.post("/v1/sizes", { name: "cap-4g", vcpus: 1, memory_mib: 4096 }),
      400,
      "invalid_request",
      /4096 MiB/,
    );
    expect((await env.api.get("/v1/sizes/cap-17")).status).toBe(404);
    expectError(
      await env.api.post("/v1/profiles", { name: "cap-p", cpus: 17, memory_mib: 64 }),
      400,
      "invalid_request",
      /profile cap-p: 17 vcpus/,
    );
    expectError(
      await env.api.post("/v1/profiles", { name: "cap-p", cpus: 1, memory_mib: 64, root_disk_gb: 61 }),
      400,
      "invalid_request",
      /disk root: 61 GiB is more than the largest disk allowed, 60 GiB/,
    );
    expectError(
      await env.api.post("/v1/profiles", {
        name: "cap-p",
        cpus: 1,
        memory_mib: 64,
        disks: [{ name: "d", size_gb: 61 }],
      }),
      400,
      "invalid_request",
      /disk d: 61 GiB/,
    );
    expect((await env.api.post("/v1/profiles", { name: "cap-p", cpus: 16, memory_mib: 3072 })).status).toBe(
      201,
    );
    expectError(
      await env.api.patch("/v1/profiles/cap-p", { memory_mib: 3073 }),
      400,
      "invalid_request",
      /3073 MiB/,
    );
    expect((await env.api.get("/v1/profiles/cap-p")).body.memory_mib).toBe(3072);
    expect((await env.api.delete("/v1/profiles/cap-p")).status).toBe(204);
  });

  test("the staging agent's front: memory beyond the host is 400 in its shape, and nothing is made", async () => {
    const before = await snapshot();
    const r = await env.api.post("/hosts/cap-big.example.com", { memory: 4096, disks: [1], networks: [] });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: expect.stringMatching(/4096 MiB of memory is more than the host's 3072 MiB/),
    });
    const disk = await env.api.post("/hosts/cap-big.example.com", { memory: 64, disks: [61], networks: [] });
    expect(disk.status).toBe(400);
    expect(disk.body.error).toMatch(/61 GiB is more than the largest disk allowed/);
    expect(await snapshot()).toEqual(before);
  });

  test("raw XML asking for more than the host is 400 invalid_xml, and the define is undone", async () => {
    const before = await snapshot();
    const xml = (vcpus: number, mib: number) =>
      `<domain type='qemu'><name>cap-xml</name><memory unit='MiB'>${mib}</memory><vcpu>${vcpus}</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`;
    expectError(
      await env.api.post("/v1/vms?wait=true", { xml: xml(17, 128) }),
      400,
      "invalid_xml",
      /17 vcpus/,
    );
    expectError(
      await env.api.post("/v1/vms?wait=true", { xml: xml(1, 4096) }),
      400,
      "invalid_xml",
      /4096 MiB/,
    );
    expect(await snapshot()).toEqual(before);
  });
});

describe("berth's VMs together against host × overcommit", () => {
  test("a VM that would take the total past the limit is 409 capacity_exceeded; a deleted VM frees its share", async () => {
    expect((await create({ name: "cap-a", cpus: 8, memory_mib: 2048, root_disk_gb: 1 })).status).toBe(200);
    const before = await snapshot();
    expectError(
      await create({ name: "cap-b", cpus: 9, memory_mib: 64, root_disk_gb: 1 }),
      409,
      "capacity_exceeded",
      /not enough vCPUs: berth's VMs hold 8 of 16 \(16 host CPUs × vcpu_overcommit 1\) and this asks for 9 more/,
    );
    expectError(
      await create({ name: "cap-b", cpus: 4, memory_mib: 1025, root_disk_gb: 1 }),
      409,
      "capacity_exceeded",
      /not enough memory: berth's VMs hold 2048 of 3072 MiB/,
    );
    expect(await snapshot()).toEqual(before);
    expect((await create({ name: "cap-b", cpus: 8, memory_mib: 1024, root_disk_gb: 1 })).status).toBe(200);
    await remove("cap-a");
    expect((await create({ name: "cap-c", cpus: 8, memory_mib: 2048, root_disk_gb: 1 })).status).toBe(200);
  });

  test("PATCH of a stopped VM: beyond the host is 400, beyond the total is 409, its own share is not counted twice", async () => {
    expectError(await env.api.patch("/v1/vms/cap-b", { cpus: 17 }), 400, "invalid_request", /17 vcpus/);
    expectError(
      await env.api.patch("/v1/vms/cap-b", { memory_mib: 1025 }),
      409,
      "capacity_exceeded",
      /not enough memory/,
    );
    const r = await env.api.patch("/v1/vms/cap-b", { cpus: 8, memory_mib: 1024 });
    expect(r.status).toBe(200);
    expect((await env.api.get("/v1/vms/cap-b")).body).toMatchObject({ vcpus: 8, memory_mib: 1024 });
    await remove("cap-b");
    await remove("cap-c");
  });
});

describe("disks", () => {
  test("a disk beyond max_disk_gb is 400, and new disks beyond the pool's free space are 507; nothing is made", async () => {
    const before = await snapshot();
    expectError(
      await create({ name: "cap-d", cpus: 1, memory_mib: 64, root_disk_gb: 61 }),
      400,
      "invalid_request",
      /disk root: 61 GiB is more than the largest disk allowed, 60 GiB/,
    );
    // 1 + 60 + 60 GiB of new disks in a 100 GiB pool.
    expectError(
      await create({
        name: "cap-d",
        cpus: 1,
        memory_mib: 64,
        root_disk_gb: 1,
        disks: [{ size_gb: 60 }, { size_gb: 60 }],
      }),
      507,
      "insufficient_storage",
      /the new disks need 121 GiB and storage pool cap-routes-pool has 100 GiB free/,
    );
    expect(await snapshot()).toEqual(before);
  });

  test("adding and growing disks: beyond max_disk_gb is 400 at once, beyond the free space 507, and nothing is left", async () => {
    expect((await create({ name: "cap-d", cpus: 1, memory_mib: 64, root_disk_gb: 1 })).status).toBe(200);
    expectError(
      await env.api.post("/v1/vms/cap-d/disks", { name: "big", size_gb: 61 }),
      400,
      "invalid_request",
      /61 GiB/,
    );
    expect((await env.api.post("/v1/vms/cap-d/disks?wait=true", { name: "data", size_gb: 60 })).status).toBe(
      200,
    );
    const before = await snapshot();
    // 39 GiB are left.
    expectError(
      await env.api.post("/v1/vms/cap-d/disks?wait=true", { name: "more", size_gb: 40 }),
      507,
      "insufficient_storage",
      /the new disks need 40 GiB and storage pool cap-routes-pool has 39 GiB free/,
    );
    // Without ?wait the answer is the same 507, before any operation is started.
    const opsBefore = env.core.ops.list({ limit: 1000 }).length;
    expectError(
      await env.api.post("/v1/vms/cap-d/disks", { name: "more", size_gb: 40 }),
      507,
      "insufficient_storage",
      /the new disks need 40 GiB/,
    );
    expectError(
      await env.api.patch("/v1/vms/cap-d/disks/root", { size_gb: 41 }),
      507,
      "insufficient_storage",
      /the new disks need 40 GiB/,
    );
    expect(env.core.ops.list({ limit: 1000 }).length).toBe(opsBefore);
    expectError(
      await env.api.patch("/v1/vms/cap-d/disks/root?wait=true", { size_gb: 61 }),
      400,
      "invalid_request",
      /61 GiB/,
    );
    expectError(
      await env.api.patch("/v1/vms/cap-d/disks/root?wait=true", { size_gb: 41 }),
      507,
      "insufficient_storage",
      /the new disks need 40 GiB/,
    );
    expect(await snapshot()).toEqual(before);
    expect((await env.api.get("/v1/vms/cap-d/disks")).body.map((d: { name: string }) => d.name)).toEqual([
      "root",
      "data",
    ]);
    // vmpooler's disk route: the same 400, in its shape.
    const vp = await env.api.post("/api/v1/vm/cap-d/disk/61");
    expect(vp.status).toBe(400);
    expect(vp.body.ok).toBe(false);
    await remove("cap-d");
  });
});

describe("pools", () => {
  test("a pool whose VMs do not all fit fills what fits; the refill records the refusal and retries later without throwing", async () => {
    expect(
      (await env.api.post("/v1/profiles", { name: "cap-nine", cpus: 9, memory_mib: 64, root_disk_gb: 1 }))
        .status,
    ).toBe(201);
    expect((await env.api.post("/v1/pools", { name: "cap-pool", profile: "cap-nine", size: 2 })).status).toBe(
      201,
    );
    // 9 of 16 vCPUs for the first VM; the second would take 18.
    const first = await tick(env.core);
    expect(first.created.length).toBe(1);
    for (const op of env.core.ops.list({ status: "running", limit: 100 })) await env.core.ops.wait(op.id, 30);
    const again = await tick(env.core);
    expect(again.created).toEqual([]);
    const pool = (await env.api.get("/v1/pools/cap-pool")).body;
    expect(pool.failures).toBeGreaterThanOrEqual(2);
    expect(rows()).toEqual(first.created);
    expect((await env.api.delete("/v1/pools/cap-pool")).status).toBe(204);
    await tick(env.core);
    for (const op of env.core.ops.list({ status: "running", limit: 100 })) await env.core.ops.wait(op.id, 30);
    await tick(env.core);
    for (const name of rows()) await remove(name);
  });
});
