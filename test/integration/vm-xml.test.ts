// Raw libvirt XML on real libvirtd + QEMU (TCG): define the tiny guest from XML, boot it, PUT more memory with restart, delete it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fromXml } from "../../src/xml/codec.ts";
import { BERTH_NS } from "../../src/xml/domain.ts";
import { buildVolumeXml } from "../../src/xml/storage.ts";
import { apiClient } from "../support/api.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-xml-${id}`;
const VM = `xml-it-${id}`;
const IMAGE = `xml-tiny-${id}`;
const DISK = `xml-it-${id}-user.qcow2`;
const MiB = 2 ** 20;

describe.skipIf(!integrationReady())("raw XML VMs on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;
  let kernel: { path: string; initrd_path: string };
  let diskPath: string;
  let logFile: string;
  const ok = async (p: Promise<{ status: number; body: { error?: unknown } }>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r as { status: number; body: Json };
  };
  const blockLines = () => consoleReports(logFile).filter((l) => l === "block sda 2097152").length;

  /** The tiny guest as a PVC user would write it: direct kernel boot, a qcow2 on virtio-scsi, a logged serial. */
  const domainXml = (memoryMiB: number, uuid?: string) => `<domain type='qemu'>
  <name>${VM}</name>${uuid ? `\n  <uuid>${uuid}</uuid>` : ""}
  <memory unit='MiB'>${memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${kernel.path}</kernel>
    <initrd>${kernel.initrd_path}</initrd>
    <cmdline>${GUEST.cmdline}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${diskPath}'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <serial type='pty'><log file='${logFile}' append='on'/><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>`;

  beforeAll(async () => {
    buildGuest();
    const images = `[images]\nimport_dirs = [${JSON.stringify(dirname(GUEST.kernel))}]\n`;
    core = await systemCore(POOL, `[network]\novs_datapath = "netdev"\n${images}`);
    api = apiClient(core);
    const img = await ok(
      api.post("/v1/images?wait=true", {
        name: IMAGE,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
    );
    kernel = img.body.result;
    // The user's own disk: in berth's pool, but not a volume berth made for a VM.
    diskPath = (
      await core.hv.call("volume.create", {
        pool: POOL,
        xml: buildVolumeXml({ name: DISK, capacityBytes: 1024 * MiB, format: "qcow2" }),
      })
    ).path;
    logFile = join(core.config.data_dir, "console", `${VM}.log`);
  }, 600_000);

  afterAll(async () => {
    if (!core) return;
    if ((await api.get(`/v1/vms/${VM}`)).status === 200) await api.delete(`/v1/vms/${VM}?wait=true`);
    await core.hv.call("volume.delete", { pool: POOL, volume: DISK }).catch(() => undefined);
    await api.delete(`/v1/images/${IMAGE}`);
    const left = await dropStoragePool(core, POOL);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("define from XML and start: the guest boots and sees its disk as sda", async () => {
    const r = await ok(api.post("/v1/vms?wait=true", { xml: domainXml(256), start: true }));
    const vm = r.body.result;
    expect(vm).toMatchObject({
      name: VM,
      status: "running",
      vcpus: 1,
      memory_mib: 256,
      boot: { mode: "xml" },
    });
    expect(vm.disks).toEqual([expect.objectContaining({ target: "sda", path: diskPath, volume: DISK })]);
    expect(await core.hv.call("domain.getMetadata", { name: VM, uri: BERTH_NS })).toContain(`id="${vm.id}"`);
    await waitFor(() => blockLines() >= 1, 90_000, "BERTH-GUEST: block sda in the console log");
  }, 150_000);

  test("PUT with more memory and restart: the new definition runs, berth's metadata stays", async () => {
    const vm = (await api.get(`/v1/vms/${VM}`)).body;
    const xml = domainXml(384, vm.uuid);
    const r = await ok(api.put(`/v1/vms/${VM}/xml?wait=true`, { xml, restart: true }));
    expect(r.body.result).toMatchObject({ status: "running", memory_mib: 384 });
    const info = await core.hv.call("domain.info", { name: VM });
    expect(info.state).toBe("running");
    expect(info.maxMemoryKiB).toBe(384 * 1024);
    const meta = await core.hv.call("domain.getMetadata", { name: VM, uri: BERTH_NS });
    expect((fromXml(meta ?? "").vm as Record<string, string>)["@id"]).toBe(vm.id);
    await waitFor(() => blockLines() >= 2, 90_000, "the guest's second boot on the new definition");
  }, 150_000);

  test("DELETE removes the VM but keeps the user's disk", async () => {
    await ok(api.delete(`/v1/vms/${VM}?wait=true`));
    expect((await core.hv.call("domain.list", {})).map((d) => d.name)).not.toContain(VM);
    expect(existsSync(diskPath)).toBe(true);
    expect((await core.hv.call("volume.list", { pool: POOL })).map((v) => v.name)).toContain(DISK);
  }, 60_000);
});
