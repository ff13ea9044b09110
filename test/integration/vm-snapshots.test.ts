// Addresses, console and snapshots on real libvirtd + QEMU (TCG) with the tiny guest, through the native API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { primaryIpv4 } from "../../src/core/vms/addresses.ts";
import { apiClient } from "../support/api.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady, run, SYSTEM_URI } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-snap-${id}`;
const NAT = `it-snat-${id}`;
const SUBNET = `10.214.${Number(id) % 250}.0/24`;
const VM = `vm-snap-${id}`;
const PROFILE = `snap-${id}`;
const IMG = { kernel: `snapk-${id}`, disk: `snapd-${id}`, iso: `snapi-${id}` };

describe.skipIf(!integrationReady())("snapshots, addresses and console on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;
  let dir: string;
  let vm: Json;
  const ok = async (p: Promise<{ status: number; body: Json }>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  };
  const consoleLines = async (): Promise<string[]> =>
    (await ok(api.get(`/v1/vms/${VM}/console?lines=10000`))).body.lines;
  const ticks = async () =>
    (await consoleLines()).flatMap((l) => {
      const m = /BERTH-GUEST: tick (\d+)$/.exec(l);
      return m ? [Number(m[1])] : [];
    });
  const overlaySnapshots = (path: string) => run(["qemu-img", "snapshot", "-l", "-U", path]).out;

  beforeAll(async () => {
    buildGuest();
    dir = mkdtempSync("/tmp/berth-it-snap-");
    chmodSync(dir, 0o755);
    // The base image the root disk is a linked clone of, and an ISO for a cdrom.
    const base = join(dir, "base.qcow2");
    expect(run(["qemu-img", "create", "-q", "-f", "qcow2", base, "64M"]).ok).toBe(true);
    const iso = new Uint8Array(64 * 1024);
    iso.set([1, ...new TextEncoder().encode("CD001"), 1], 32768);
    writeFileSync(join(dir, "cd.iso"), iso);
    const imports = JSON.stringify([dirname(GUEST.kernel), dir]);
    core = await systemCore(POOL, `[network]\novs_datapath = "netdev"\n[images]\nimport_dirs = ${imports}\n`);
    api = apiClient(core);
    await ok(
      api.post("/v1/images?wait=true", {
        name: IMG.kernel,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
    );
    await ok(api.post("/v1/images?wait=true", { name: IMG.disk, kind: "disk", path: base }));
    await ok(api.post("/v1/images?wait=true", { name: IMG.iso, kind: "iso", path: join(dir, "cd.iso") }));
    await ok(api.post("/v1/networks", { name: NAT, mode: "nat", subnet: SUBNET }), 201);
    await ok(
      api.post("/v1/profiles", {
        name: PROFILE,
        image: IMG.disk,
        cpus: 1,
        memory_mib: 256,
        root_disk_gb: 1,
        disks: [{ name: "cd", image: IMG.iso, media: "cdrom" }],
        networks: [NAT],
        boot: { mode: "kernel", kernel_image: IMG.kernel, cmdline: GUEST.cmdline },
      }),
      201,
    );
    vm = (await ok(api.post("/v1/vms?wait=true", { name: VM, profile: PROFILE }))).body.result;
  }, 600_000);

  afterAll(async () => {
    if (!core) return;
    await api.delete(`/v1/vms/${VM}?wait=true`);
    await api.delete(`/v1/profiles/${PROFILE}`);
    await api.delete(`/v1/networks/${NAT}`);
    for (const name of Object.values(IMG)) await api.delete(`/v1/images/${name}`);
    const left = await dropStoragePool(core, POOL);
    await core.close();
    rmSync(dir, { recursive: true, force: true });
    expect(left).toEqual([]);
  }, 120_000);

  test("the guest's DHCP lease shows up in /addresses and matches what the guest reports", async () => {
    expect(vm.disks.map((d: Json) => [d.target, d.device, d.image])).toEqual([
      ["sda", "disk", IMG.disk],
      ["sdb", "cdrom", IMG.iso],
    ]);
    const logFile = `${core.config.data_dir}/console/${vm.id}.log`;
    const guestIp = () =>
      consoleReports(logFile)
        .find((l) => l.startsWith("ip eth0 "))
        ?.slice("ip eth0 ".length);
    const leased = async () => (await ok(api.get(`/v1/vms/${VM}/addresses`))).body[0].addresses;
    const t = await waitFor(async () => (await leased()).length > 0, 120_000, "a lease in /addresses");
    await waitFor(() => guestIp() !== undefined, 30_000, "the guest's ip report");
    console.log(`lease visible in /addresses ${(t / 1000).toFixed(1)} s after the create returned`);
    const [nic] = (await ok(api.get(`/v1/vms/${VM}/addresses`))).body;
    expect(nic).toMatchObject({ network: NAT, mac: vm.nics[0].mac, vlan: null });
    expect(nic.addresses).toEqual([{ address: guestIp(), prefix: 24, family: "ipv4", source: "lease" }]);
    expect(await primaryIpv4(core, (await ok(api.get(`/v1/vms/${VM}`))).body)).toBe(guestIp() as string);
  }, 180_000);

  test("the console route's tail shows the guest's boot output", async () => {
    const lines = await consoleLines();
    expect(lines.some((l) => l.includes("BERTH-GUEST: boot "))).toBe(true);
    expect(lines).toContain("BERTH-GUEST: ready");
    expect(lines.every((l) => !l.endsWith("\r"))).toBe(true);
    const last = (await ok(api.get(`/v1/vms/${VM}/console?lines=2`))).body;
    expect(last.lines).toHaveLength(2);
    expect(last.path).toBe(`${core.config.data_dir}/console/${vm.id}.log`);
  }, 30_000);

  test("a snapshot of the running guest keeps its memory: after a revert its tick counter goes back", async () => {
    await waitFor(async () => (await ticks()).length > 0, 30_000, "the guest's first tick");
    const snap = await ok(api.post(`/v1/vms/${VM}/snapshots?wait=true`, { name: "ticking" }));
    expect(snap.body.result).toMatchObject({
      name: "ticking",
      state: "running",
      memory_state: true,
      vcpus: 1,
      memory_mib: 256,
      disks: [
        { name: "root", target: "sda" },
        { name: "cd", target: "sdb" },
      ],
      networks: [{ network: NAT, mac: vm.nics[0].mac }],
    });
    const atSnapshot = Math.max(...(await ticks()));
    // The snapshot lives inside the linked clone's overlay, not in the image it is backed by.
    const root = vm.disks[0];
    expect(overlaySnapshots(root.path)).toContain("ticking");
    const image = (await ok(api.get(`/v1/images/${IMG.disk}`))).body;
    expect(overlaySnapshots(image.path)).not.toContain("ticking");

    await waitFor(async () => Math.max(...(await ticks())) >= atSnapshot + 3, 60_000, "three more ticks");
    const reverted = await ok(api.post(`/v1/vms/${VM}/snapshots/ticking/revert?wait=true`));
    const before = await ticks();
    const lastBefore = Math.max(...before);
    expect(reverted.body.result).toMatchObject({ status: "running", state: "running" });
    await waitFor(async () => (await ticks()).length > before.length, 30_000, "a tick after the revert");
    const next = (await ticks())[before.length] as number;
    console.log(`tick before revert ${lastBefore}, snapshot at ~${atSnapshot}, next after revert ${next}`);
    expect(next).toBeLessThan(lastBefore);
    expect(next).toBeGreaterThan(atSnapshot - 2);
  }, 180_000);

  test("list and show come from berth's records; delete removes it from the overlay too", async () => {
    const list = (await ok(api.get(`/v1/vms/${VM}/snapshots`))).body;
    expect(list.map((s: Json) => s.name)).toEqual(["ticking"]);
    expect((await ok(api.get(`/v1/vms/${VM}/snapshots/ticking`))).body).toEqual(list[0]);
    await ok(api.delete(`/v1/vms/${VM}/snapshots/ticking?wait=true`));
    expect(await core.hv.call("snapshot.list", { name: VM })).toEqual([]);
    expect(overlaySnapshots(vm.disks[0].path)).not.toContain("ticking");
    expect((await ok(api.get(`/v1/vms/${VM}/snapshots`))).body).toEqual([]);
  }, 60_000);

  test("a stopped VM has no addresses, and its snapshot has no memory", async () => {
    await ok(api.post(`/v1/vms/${VM}/stop?wait=true`));
    const nics = (await ok(api.get(`/v1/vms/${VM}/addresses`))).body;
    expect(nics.map((n: Json) => n.addresses)).toEqual([[]]);
    const cold = await ok(api.post(`/v1/vms/${VM}/snapshots?wait=true`, { name: "cold" }));
    expect(cold.body.result).toMatchObject({ state: "shutoff", memory_state: false });
    // Deleting the VM undefines it with its snapshot metadata; berth's records go with it.
    await ok(api.delete(`/v1/vms/${VM}?wait=true`));
    expect(run(["virsh", "-c", SYSTEM_URI, "domstate", VM]).ok).toBe(false);
  }, 60_000);
});
