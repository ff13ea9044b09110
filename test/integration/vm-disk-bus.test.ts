// Disk buses on real libvirtd + QEMU: one VM with a disk on each of scsi, virtio, sata and usb, started, read live.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dirname } from "node:path";
import { fromXml, listOf } from "../../src/xml/codec.ts";
import { apiClient } from "../support/api.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { dropStoragePool, type SystemCore, systemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-bus-${id}`;
const VM = `bus-${id}`;
const IMAGE = `tiny-bus-${id}`;
const SECTORS_1G = 2 ** 30 / 512;

describe.skipIf(!integrationReady())("disk buses on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;
  let vmId = "";
  const reports = () => consoleReports(`${core.config.data_dir}/console/${vmId}.log`);
  const ok = async (p: Promise<{ status: number; body: { error?: unknown } }>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r as { status: number; body: Json };
  };
  /** The running domain's disks as [target, bus] in target order, and its controllers as type/model. */
  const live = async () => {
    const dom = fromXml(await core.hv.call("domain.xml", { name: VM }), ["disk", "controller"]).domain as {
      devices: { disk: unknown; controller: unknown };
    };
    const disks = listOf(dom.devices.disk)
      .map((d) => (d as { target: Record<string, string> }).target)
      .map((t) => [t["@dev"], t["@bus"]] as [string, string])
      .sort((a, b) => a[0].localeCompare(b[0]));
    const controllers = listOf(dom.devices.controller).map((c) => {
      const x = c as Record<string, string>;
      return `${x["@type"]}/${x["@model"] ?? ""}`;
    });
    return { disks, controllers };
  };

  beforeAll(async () => {
    buildGuest();
    core = await systemCore(POOL, `[images]\nimport_dirs = [${JSON.stringify(dirname(GUEST.kernel))}]\n`);
    api = apiClient(core);
    await ok(
      api.post("/v1/images?wait=true", {
        name: IMAGE,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
    );
    await ok(
      api.post("/v1/profiles", {
        name: IMAGE,
        cpus: 1,
        memory_mib: 256,
        root_disk_gb: 1,
        boot: { mode: "kernel", kernel_image: IMAGE, cmdline: GUEST.cmdline },
      }),
      201,
    );
  }, 600_000);

  afterAll(async () => {
    if (!core) return;
    await api.delete(`/v1/vms/${VM}?wait=true`);
    await api.delete(`/v1/profiles/${IMAGE}`);
    await api.delete(`/v1/images/${IMAGE}`);
    const left = await dropStoragePool(core, POOL);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("QEMU starts a VM with a disk on each bus; the live domain shows each on its bus; the guest sees virtio as vdX", async () => {
    const r = await ok(
      api.post("/v1/vms?wait=true", {
        name: VM,
        profile: IMAGE,
        disks: [
          { name: "v", size_gb: 2, bus: "virtio" },
          { name: "t", size_gb: 1, bus: "sata" },
          { name: "u", size_gb: 1, bus: "usb" },
        ],
      }),
    );
    vmId = r.body.result.id;
    expect((await api.get(`/v1/vms/${VM}`)).body.status).toBe("running");
    const { disks, controllers } = await live();
    expect(disks).toEqual([
      ["sda", "scsi"],
      ["sdc", "sata"],
      ["sdd", "usb"],
      ["vdb", "virtio"],
    ]);
    expect(controllers).toContain("usb/qemu-xhci");
    expect(controllers).toContain("sata/");
    // The tiny guest's cloud kernel has virtio-blk and virtio-scsi but no AHCI or USB drivers.
    await waitFor(() => reports().includes("ready"), 90_000, "the guest's first report");
    expect(reports()).toContain(`block sda ${SECTORS_1G}`);
    expect(reports()).toContain(`block vda ${2 * SECTORS_1G}`);
  }, 150_000);

  test("hot-plug on the running VM: usb disks are attached (more than 4), a sata disk is 409", async () => {
    const usb = await ok(api.post(`/v1/vms/${VM}/disks?wait=true`, { name: "u2", size_gb: 1, bus: "usb" }));
    expect(usb.body.result).toMatchObject({ bus: "usb", target: "sde" });
    expect((await live()).disks).toContainEqual(["sde", "usb"]);
    const sata = await api.post(`/v1/vms/${VM}/disks?wait=true`, { name: "t2", size_gb: 1, bus: "sata" });
    expect(sata.status).toBe(409);
    expect((await live()).disks.map(([t]) => t)).not.toContain("sdf");
    // More USB disks than xHCI's default 4 ports: the controller berth writes has room for them.
    for (const n of ["u3", "u4", "u5"])
      await ok(api.post(`/v1/vms/${VM}/disks?wait=true`, { name: n, size_gb: 1, bus: "usb" }));
    expect((await live()).disks.filter(([, bus]) => bus === "usb")).toHaveLength(5);
  }, 60_000);
});
