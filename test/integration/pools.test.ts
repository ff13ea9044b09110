// A warm pool of tiny guests on real libvirtd: it fills (tcp:8080 readiness), checkout hands out VMs that
// answer on their port, and an expired VM is destroyed while the pool refills.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import type { PeriodicJob } from "../../src/scheduler/periodic.ts";
import { startPoolScheduler } from "../../src/scheduler/pools.ts";
import { apiClient } from "../support/api.ts";
import { testConfig, testCore } from "../support/core.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady, SYSTEM_URI } from "./support/env.ts";
import { buildGuest, GUEST } from "./support/guest.ts";

const id = `${process.pid}`;
const POOL = `itp-${id}`;
const NAT = `itp-nat-${id}`;

describe.skipIf(!integrationReady())("a warm pool on libvirtd", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  let api: ReturnType<typeof apiClient>;
  let scheduler: PeriodicJob | null = null;
  const ok = async (p: Promise<{ status: number; body: Json }>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const counts = async () => (await api.get(`/v1/pools/${POOL}`)).body.counts;

  beforeAll(async () => {
    buildGuest();
    const config = testConfig(
      `[hypervisor]\ndomain_type = "qemu"\nworkers = 2\n[storage]\npool = "berth-it-pool-${id}"\n[scheduler]\ninterval_s = 1\nmax_concurrent_creates = 2\n`,
      { BERTH_HYPERVISOR_URI: SYSTEM_URI },
    );
    chmodSync(config.data_dir, 0o711);
    core = await testCore(config);
    api = apiClient(core);
    await ok(
      api.post("/v1/images?wait=true", {
        name: `itp-k-${id}`,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
    );
    await ok(api.post("/v1/networks", { name: NAT, mode: "nat", subnet: "192.168.219.0/24" }), 201);
    await ok(
      api.post("/v1/profiles", {
        name: `itp-${id}`,
        cpus: 1,
        memory_mib: 256,
        root_disk_gb: 1,
        networks: [NAT],
        boot: { mode: "kernel", kernel_image: `itp-k-${id}`, cmdline: GUEST.cmdline },
      }),
      201,
    );
  }, 600_000);

  afterAll(async () => {
    if (!core) return;
    await scheduler?.stop();
    await api.delete(`/v1/pools/${POOL}`);
    for (const vm of (await api.get("/v1/vms")).body ?? []) await api.delete(`/v1/vms/${vm.name}?wait=true`);
    await api.delete(`/v1/profiles/itp-${id}`);
    await api.delete(`/v1/networks/${NAT}`);
    await api.delete(`/v1/images/itp-k-${id}`);
    await core.hv.call("pool.destroy", { pool: `berth-it-pool-${id}` }).then(
      () => core.hv.call("pool.undefine", { pool: `berth-it-pool-${id}` }),
      (e) => e,
    );
    await core.close();
  }, 180_000);

  test("a pool of 2 with tcp:8080 readiness fills; checkout hands out VMs that answer; expiry destroys and refills", async () => {
    await ok(
      api.post("/v1/pools", {
        name: POOL,
        profile: `itp-${id}`,
        size: 2,
        ready_check: "tcp:8080",
        ready_timeout: 5,
      }),
      201,
    );
    const t0 = performance.now();
    scheduler = startPoolScheduler(core);
    await waitFor(async () => (await counts()).ready === 2, 150_000, "2 ready VMs");
    console.log(
      `pool of 2 tiny guests ready from empty in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const out = await ok(api.post("/v1/checkout", { [POOL]: 1 }));
    const name = out.vms[0].name as string;
    const vm = (await api.get(`/v1/vms/${name}`)).body;
    expect(vm.primary_ipv4).toMatch(/^192\.168\.219\./);
    const page = await fetch(`http://${vm.primary_ipv4}:8080/`).then((r) => r.text());
    expect(page).toContain("berth test guest");

    // The pool refills behind the checkout, then the checked-out VM's short lifetime ends.
    await waitFor(async () => (await counts()).ready === 2, 150_000, "the pool to refill");
    await ok(api.patch(`/v1/vms/${name}`, { lifetime: 0.0005 }));
    await waitFor(
      async () => (await api.get(`/v1/vms/${name}`)).status === 404,
      60_000,
      "the expired VM to go",
    );
    const left = await counts();
    expect(left.checked_out).toBe(0);
    expect(left.ready + left.pending).toBe(2);
  }, 420_000);
});
