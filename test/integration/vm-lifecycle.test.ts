// VMs end to end on real libvirtd + QEMU (TCG) + OVS with the tiny guest, through berth's native API.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dirname } from "node:path";
import { apiClient } from "../support/api.ts";
import { failingAt } from "../support/fault-injector.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady, run, SYSTEM_URI } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-vm-${id}`;
const OVS = `berthvm${id}`.slice(0, 15);
const NAT = `it-nat-${id}`;
const VLAN_NET = `it-v42-${id}`;
const MiB = 2 ** 20;

describe.skipIf(!integrationReady())("VM lifecycle on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;
  const consoleOf = (vmId: string) => `${core.config.data_dir}/console/${vmId}.log`;
  const reports = (vmId: string) => consoleReports(consoleOf(vmId));
  const seen = (vmId: string, re: RegExp) => () => reports(vmId).some((l) => re.test(l));
  const ok = async (p: Promise<{ status: number; body: { error?: unknown } }>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r as { status: number; body: Json };
  };

  beforeAll(async () => {
    buildGuest();
    const images = `[images]\nimport_dirs = [${JSON.stringify(dirname(GUEST.kernel))}]\n`;
    core = await systemCore(POOL, `[network]\novs_datapath = "netdev"\nmanage_bridges = true\n${images}`);
    api = apiClient(core);
    await ok(
      api.post("/v1/images?wait=true", {
        name: `tiny-${id}`,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
    );
    await ok(api.post("/v1/networks", { name: NAT, mode: "nat", subnet: "192.168.218.0/24" }), 201);
    await ok(api.post("/v1/networks", { name: VLAN_NET, bridge: OVS, vlan: 42 }), 201);
    await ok(api.post("/v1/sizes", { name: `s${id}`, vcpus: 1, memory_mib: 256 }), 201);
    await ok(
      api.post("/v1/profiles", {
        name: `tiny-${id}`,
        size: `s${id}`,
        root_disk_gb: 1,
        disks: [{ name: "data", size_gb: 1 }],
        networks: [NAT, VLAN_NET],
        boot: { mode: "kernel", kernel_image: `tiny-${id}`, cmdline: GUEST.cmdline },
      }),
      201,
    );
  }, 600_000);

  afterAll(async () => {
    if (!core) return;
    for (const vm of (await api.get("/v1/vms")).body ?? []) await api.delete(`/v1/vms/${vm.name}?wait=true`);
    await api.delete(`/v1/profiles/tiny-${id}`);
    await api.delete(`/v1/sizes/s${id}`);
    await api.delete(`/v1/networks/${NAT}`);
    await api.delete(`/v1/networks/${VLAN_NET}`);
    await api.delete(`/v1/images/tiny-${id}`);
    const left = await dropStoragePool(core, POOL);
    run(["ovs-vsctl", "--timeout=10", "--if-exists", "del-br", OVS]);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("a VM from a profile boots with sda (root) and sdb (data) on virtio-scsi and its NICs on the networks", async () => {
    const r = await ok(api.post("/v1/vms?wait=true", { name: `vm-a-${id}`, profile: `tiny-${id}` }));
    const vm = r.body.result;
    expect(vm.disks.map((d: { target: string }) => d.target)).toEqual(["sda", "sdb"]);
    await waitFor(seen(vm.id, /^block sdb \d+$/), 90_000, "sda and sdb in the guest");
    expect(reports(vm.id)).toContain(`block sda ${(1024 * MiB) / 512}`);
    const xml = await core.hv.call("domain.xml", { name: vm.name });
    const port =
      /<interface type='network'>[\s\S]*?<source network='it-v42-\d+'[\s\S]*?<target dev='(vnet\d+)'/.exec(
        xml,
      )?.[1];
    expect(port).toBeDefined();
    expect(run(["ovs-vsctl", "--timeout=10", "get", "port", port as string, "tag"]).out.trim()).toBe("42");
  }, 150_000);

  test("hot-add a third disk: sdc appears in the guest; grow it live: the guest sees the new size", async () => {
    const vm = (await api.get(`/v1/vms/vm-a-${id}`)).body;
    const add = await ok(api.post(`/v1/vms/${vm.name}/disks?wait=true`, { name: "more", size_gb: 1 }));
    expect(add.body.result.target).toBe("sdc");
    await waitFor(seen(vm.id, /^block sdc 2097152$/), 60_000, "sdc in the guest");
    await ok(api.patch(`/v1/vms/${vm.name}/disks/more?wait=true`, { size_gb: 2 }));
    await waitFor(seen(vm.id, /^block sdc 4194304$/), 60_000, "sdc grown in the guest");
    expect((await api.get(`/v1/vms/${vm.name}/disks`)).body[2].size).toBe(2 * 1024 * MiB);
  }, 150_000);

  test("shutdown with a timeout falls back to a hard stop for a guest that ignores ACPI (only with force)", async () => {
    const name = `vm-a-${id}`;
    const refused = await api.post(`/v1/vms/${name}/shutdown?wait=true`, { timeout_s: 2 });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("shutdown_timeout");
    expect((await api.get(`/v1/vms/${name}`)).body.status).toBe("running");
    await ok(api.post(`/v1/vms/${name}/shutdown?wait=true`, { timeout_s: 2, force: true }));
    expect((await core.hv.call("domain.info", { name })).state).toBe("shutoff");
    expect((await api.get(`/v1/vms/${name}`)).body.status).toBe("stopped");
  }, 60_000);

  test("a guest that honours ACPI shuts down without force; one that powers off behind berth's back is seen as stopped", async () => {
    await ok(
      api.post("/v1/profiles", {
        name: `acpi-${id}`,
        size: `s${id}`,
        root_disk_gb: 1,
        boot: { mode: "kernel", kernel_image: `tiny-${id}`, cmdline: `${GUEST.cmdline} berth.acpi=1` },
      }),
      201,
    );
    const vm = (await ok(api.post("/v1/vms?wait=true", { name: `vm-acpi-${id}`, profile: `acpi-${id}` })))
      .body.result;
    await waitFor(seen(vm.id, /^acpi honoured$/), 90_000, "the guest's acpid");
    await waitFor(seen(vm.id, /^ready$/), 30_000, "the guest to be ready");
    await ok(api.post(`/v1/vms/${vm.name}/shutdown?wait=true`, { timeout_s: 60 }));
    expect((await api.get(`/v1/vms/${vm.name}`)).body).toMatchObject({ status: "stopped", state: "shutoff" });
    const boots = () => reports(vm.id).filter((l) => l === "ready").length;
    const before = boots();
    await ok(api.post(`/v1/vms/${vm.name}/start?wait=true`));
    await waitFor(() => boots() > before, 90_000, "the guest's second boot");
    expect((await api.get(`/v1/vms/${vm.name}`)).body.status).toBe("running");
    // Power off from outside berth: libvirt's event updates berth's record.
    expect(run(["virsh", "-c", SYSTEM_URI, "shutdown", vm.name]).ok).toBe(true);
    await waitFor(
      async () => (await core.hv.call("domain.info", { name: vm.name })).state === "shutoff",
      60_000,
      "shutoff",
    );
    const t0 = performance.now();
    await waitFor(
      async () => (await api.get(`/v1/vms/${vm.name}`)).body.status === "stopped",
      5_000,
      "stopped",
    );
    console.log(
      `status followed an outside power-off within ${(performance.now() - t0).toFixed(0)} ms of libvirt`,
    );
    await ok(api.delete(`/v1/vms/${vm.name}?wait=true`));
    await api.delete(`/v1/profiles/acpi-${id}`);
  }, 240_000);

  test("a create that fails at start leaves no volume and no domain", async () => {
    const before = (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name).sort();
    // Fault injector: libvirt refuses the start (the 4 TiB of memory that once did is now a 400 up front).
    const failing = failingAt(
      core,
      "domain.create",
      1,
      "internal error: qemu unexpectedly closed the monitor",
    );
    const r = await apiClient(failing).post("/v1/vms?wait=true", {
      name: `vm-fail-${id}`,
      cpus: 1,
      memory_mib: 256,
      root_disk_gb: 1,
      disks: [{ name: "data", size_gb: 1 }],
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body.error.code).toBe("hypervisor_error");
    expect((await api.get(`/v1/vms/vm-fail-${id}`)).status).toBe(404);
    expect((await core.hv.call("domain.list", {})).map((d) => d.name)).not.toContain(`vm-fail-${id}`);
    expect((await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name).sort()).toEqual(before);
  }, 60_000);

  test("delete removes the domain and exactly its own volumes", async () => {
    const vm = (await api.get(`/v1/vms/vm-a-${id}`)).body;
    await ok(api.delete(`/v1/vms/${vm.name}?wait=true`));
    const vols = (await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name);
    for (const d of vm.disks) expect(vols).not.toContain(d.volume);
    expect((await core.hv.call("domain.list", {})).map((d) => d.name)).not.toContain(vm.name);
  }, 60_000);
});
