// Issue 10 finding 7 (capacity) on real libvirtd: 255 and 256 vCPUs, 4 TiB of memory and 64 TiB disks are refused with clear 4xx/507, leaving nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureStoragePool } from "../../src/core/storage-pool.ts";
import { integrationReady } from "../integration/support/env.ts";
import { type SystemCore, systemCore } from "../integration/support/system-core.ts";
import { apiClient, type Reply } from "../support/api.ts";

const ready = integrationReady();
const T = "sec-cap";
const STORAGE = `berth-it-${T}`;
const BIG_STORAGE = `berth-it-${T}-big`;
const TIB_MIB = 4 * 1024 * 1024;
const DISK_64_TIB = 65_536;

interface Env {
  core: SystemCore;
  api: ReturnType<typeof apiClient>;
  pool: string;
}

function expectError(r: Reply, status: number, code: string, message: RegExp): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(r.body.error.message).toMatch(message);
}

const STAGING_HOST = "sec-cap-mem.example.com";
/** Every VM name this file uses (the staging host is its own libvirt name): other domains on the host are not ours. */
const NAMES = new Set([
  ...["cpus", "mem", "xml", "disks", "three", "big", "big-three", "m1", "m2", "m3"].map((n) => `${T}-${n}`),
  STAGING_HOST,
]);

/** What berth and libvirt hold for this test: its domains and rows, and its pool's volumes. */
async function state(e: Env) {
  const domains = (await e.core.hv.call("domain.list", {})).map((d) => d.name).filter((n) => NAMES.has(n));
  const rows = (e.core.db.query("SELECT name FROM vms ORDER BY name").all() as { name: string }[]).map(
    (r) => r.name,
  );
  const volumes = (await e.core.hv.call("volume.list", { pool: e.pool })).map((v) => v.name).sort();
  return { domains: domains.sort(), rows, volumes };
}

const vm = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  cpus: 1,
  memory_mib: 256,
  root_disk_gb: 1,
  start: false,
  ...extra,
});

/** Deletes the env's VMs and its storage pool, then closes its core. */
async function dropEnv(e: Env): Promise<void> {
  if (!e.core) return;
  for (const name of (await state(e)).rows) await e.api.delete(`/v1/vms/${name}?wait=true`);
  await e.core.hv.call("pool.destroy", { pool: e.pool }).catch(() => undefined);
  await e.core.hv.call("pool.undefine", { pool: e.pool }).catch(() => undefined);
  await e.core.close();
}

describe.if(ready)("capacity on real libvirtd (finding 7)", () => {
  const env = {} as Env;
  let host = { cpus: 0, memoryKiB: 0 };

  beforeAll(async () => {
    // The defaults: vcpu_overcommit 4, memory_overcommit 1.5, max_disk_gb 2048.
    env.core = await systemCore(STORAGE);
    env.api = apiClient(env.core);
    env.pool = STORAGE;
    // The pool exists before the first snapshot of its volumes.
    await ensureStoragePool(env.core);
    host = await env.core.hv.call("nodeInfo", {});
    // The finding's sizes must exceed this host, whatever machine runs the suite.
    expect(host.cpus).toBeLessThan(255);
    expect(host.memoryKiB / 1024).toBeLessThan(TIB_MIB);
  }, 120_000);

  afterAll(() => dropEnv(env), 300_000);

  test("255 and 256 vCPUs and 4 TiB of memory are 400 on the native API and the staging front; nothing reaches libvirt", async () => {
    const before = await state(env);
    for (const cpus of [255, 256]) {
      expectError(
        await env.api.post("/v1/vms?wait=true", vm(`${T}-cpus`, { cpus })),
        400,
        "invalid_request",
        new RegExp(`${cpus} vcpus is more than the host's ${host.cpus} CPUs`),
      );
    }
    expectError(
      await env.api.post("/v1/vms?wait=true", vm(`${T}-mem`, { memory_mib: TIB_MIB })),
      400,
      "invalid_request",
      /4194304 MiB of memory is more than the host's \d+ MiB/,
    );
    const staging = await env.api.post(`/hosts/${STAGING_HOST}`, {
      memory: TIB_MIB,
      disks: [1],
      networks: [],
    });
    expect(staging.status).toBe(400);
    expect(staging.body).toEqual({
      error: expect.stringMatching(/4194304 MiB of memory is more than the host's/),
    });
    expect(await state(env)).toEqual(before);
  });

  test("raw XML with 255 or 256 vCPUs or 4 TiB of memory is 400 and its define is undone", async () => {
    const before = await state(env);
    const xml = (vcpus: number, mib: number) =>
      `<domain type='qemu'><name>${T}-xml</name><memory unit='MiB'>${mib}</memory><vcpu>${vcpus}</vcpu>` +
      `<os><type arch='x86_64'>hvm</type></os></domain>`;
    // 256 is past QEMU's machine limit too: libvirt refuses that define itself, which is also a 400.
    const cases: [number, number, RegExp][] = [
      [255, 256, /255 vcpus is more than the host's \d+ CPUs/],
      [256, 256, /256 vcpus is more than the host's|Maximum CPUs greater than specified machine type limit/],
      [1, TIB_MIB, /4194304 MiB of memory is more than the host's \d+ MiB/],
    ];
    for (const [vcpus, mib, message] of cases) {
      const r = await env.api.post("/v1/vms?wait=true", { xml: xml(vcpus, mib) });
      expect({ vcpus, mib, status: r.status, code: r.body?.error?.code }).toEqual({
        vcpus,
        mib,
        status: 400,
        code: "invalid_xml",
      });
      expect(r.body.error.message).toMatch(message);
    }
    expect(await state(env)).toEqual(before);
  });

  test("three 64 TiB disks are 400 beyond max_disk_gb, added, created or grown; the VM keeps its one disk", async () => {
    expect((await env.api.post("/v1/vms?wait=true", vm(`${T}-disks`))).status).toBe(200);
    const before = await state(env);
    for (const name of ["big1", "big2", "big3"]) {
      expectError(
        await env.api.post(`/v1/vms/${T}-disks/disks?wait=true`, { name, size_gb: DISK_64_TIB }),
        400,
        "invalid_request",
        /disk big\d: 64 TiB is more than the largest disk allowed, 2048 GiB/,
      );
    }
    const three = [1, 2, 3].map((i) => ({ name: `big${i}`, size_gb: DISK_64_TIB }));
    expectError(
      await env.api.post("/v1/vms?wait=true", vm(`${T}-three`, { disks: three })),
      400,
      "invalid_request",
      /64 TiB is more than the largest disk allowed/,
    );
    expectError(
      await env.api.patch(`/v1/vms/${T}-disks/disks/root?wait=true`, { size_gb: DISK_64_TIB }),
      400,
      "invalid_request",
      /64 TiB/,
    );
    expect(await state(env)).toEqual(before);
    expect((await env.api.get(`/v1/vms/${T}-disks/disks`)).body.map((d: { name: string }) => d.name)).toEqual(
      ["root"],
    );
  });

  test("VMs that together would hold more than the host's memory × 1.5 are 409 capacity_exceeded", async () => {
    const each = Math.floor((host.memoryKiB / 1024) * 0.6);
    expect((await env.api.post("/v1/vms?wait=true", vm(`${T}-m1`, { memory_mib: each }))).status).toBe(200);
    expect((await env.api.post("/v1/vms?wait=true", vm(`${T}-m2`, { memory_mib: each }))).status).toBe(200);
    const before = await state(env);
    expectError(
      await env.api.post("/v1/vms?wait=true", vm(`${T}-m3`, { memory_mib: each })),
      409,
      "capacity_exceeded",
      /not enough memory: berth's VMs hold \d+ of \d+ MiB \(\d+ MiB × memory_overcommit 1.5\)/,
    );
    expect(await state(env)).toEqual(before);
    for (const name of [`${T}-m1`, `${T}-m2`])
      expect((await env.api.delete(`/v1/vms/${name}?wait=true`)).status).toBe(200);
  });
});

// Its own core, once the first is closed: berth runs one core per process (two at once share libvirt's one event loop).
describe.if(ready)("capacity on real libvirtd: disks beyond the pool's space (finding 7)", () => {
  const big = {} as Env;

  beforeAll(async () => {
    // Disks as large as the schema allows, so only the pool's free space stands in their way.
    big.core = await systemCore(BIG_STORAGE, `[capacity]\nmax_disk_gb = ${DISK_64_TIB}`);
    big.api = apiClient(big.core);
    big.pool = BIG_STORAGE;
    await ensureStoragePool(big.core);
  }, 120_000);

  afterAll(() => dropEnv(big), 300_000);

  test("with max_disk_gb raised, 64 TiB disks are 507 insufficient_storage: more than the pool's free space", async () => {
    expect((await big.api.post("/v1/vms?wait=true", vm(`${T}-big`))).status).toBe(200);
    const before = await state(big);
    for (const name of ["big1", "big2", "big3"]) {
      expectError(
        await big.api.post(`/v1/vms/${T}-big/disks?wait=true`, { name, size_gb: DISK_64_TIB }),
        507,
        "insufficient_storage",
        new RegExp(`the new disks need 64 TiB and storage pool ${BIG_STORAGE} has [0-9.]+ [GT]iB free`),
      );
    }
    const three = [1, 2, 3].map((i) => ({ name: `big${i}`, size_gb: DISK_64_TIB }));
    expectError(
      await big.api.post("/v1/vms?wait=true", vm(`${T}-big-three`, { disks: three })),
      507,
      "insufficient_storage",
      /the new disks need 192 TiB/,
    );
    expectError(
      await big.api.patch(`/v1/vms/${T}-big/disks/root?wait=true`, { size_gb: DISK_64_TIB }),
      507,
      "insufficient_storage",
      /storage pool .* free/,
    );
    expect(await state(big)).toEqual(before);
  });
});
