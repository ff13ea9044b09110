// Disk buses through the native API on the test driver: create, add, profiles, refusals, and the raw-XML read-back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureStoragePool } from "../../../src/core/storage-pool.ts";
import { fromXml, listOf } from "../../../src/xml/codec.ts";
import { buildVolumeXml } from "../../../src/xml/storage.ts";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore(testConfig(`[storage]\npool = "bus-pool"\n[network]\nmanage_bridges = false`));
  api = apiClient(core);
});
afterAll(() => core.close());

const volumes = async () =>
  (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name).sort();
const shown = (r: Reply) =>
  (r.body as { name: string; bus: string; target: string }[]).map((d) => [d.name, d.bus, d.target]);
/** The persistent definition's disks as [target, bus], and its controllers as type/model. */
async function definition(name: string) {
  const dom = fromXml(await core.hv.call("domain.xml", { name, flags: 2 }), ["disk", "controller"])
    .domain as {
    devices: { disk: unknown; controller: unknown };
  };
  const disks = listOf(dom.devices.disk).map((d) => {
    const t = (d as { target: Record<string, string> }).target;
    return [t["@dev"], t["@bus"]];
  });
  const controllers = listOf(dom.devices.controller).map((c) => {
    const x = c as Record<string, string>;
    return `${x["@type"]}/${x["@model"] ?? ""}`;
  });
  return { disks, controllers };
}
const badBus = (r: Reply, field: string) => {
  expect(r.status).toBe(400);
  expect(r.body.error.message).toContain(field);
  for (const bus of ["scsi", "virtio", "sata", "usb"]) expect(r.body.error.message).toContain(bus);
};

describe("POST /v1/vms", () => {
  test("the root and each extra disk on the bus asked for; shown in every disk view and written into the domain", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "bus-a",
      cpus: 1,
      memory_mib: 64,
      root_disk_gb: 1,
      root_disk_bus: "virtio",
      disks: [
        { name: "s", size_gb: 1 },
        { name: "v", size_gb: 1, bus: "virtio" },
        { name: "t", size_gb: 1, bus: "sata" },
        { name: "u", size_gb: 1, bus: "usb" },
      ],
      start: false,
    });
    expect(r.status).toBe(200);
    const want = [
      ["root", "virtio", "vda"],
      ["s", "scsi", "sdb"],
      ["v", "virtio", "vdc"],
      ["t", "sata", "sdd"],
      ["u", "usb", "sde"],
    ];
    expect(shown({ ...r, body: r.body.result.disks })).toEqual(want);
    expect(shown(await api.get("/v1/vms/bus-a/disks"))).toEqual(want);
    expect(shown({ ...r, body: (await api.get("/v1/vms/bus-a")).body.disks })).toEqual(want);
    const def = await definition("bus-a");
    // libvirt keeps a definition's disks grouped by bus (the root's first): compare them in target order.
    expect(def.disks.sort()).toEqual(want.map(([, bus, target]) => [target, bus]).sort());
    expect(def.controllers).toEqual(["scsi/virtio-scsi", "usb/qemu-xhci", "sata/"]);
  });

  test("without a bus every disk stays on scsi (sdX), as before", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "bus-b",
      cpus: 1,
      memory_mib: 64,
      root_disk_gb: 1,
      disks: [{ name: "d", size_gb: 1 }],
      start: false,
    });
    expect(shown({ ...r, body: r.body.result.disks })).toEqual([
      ["root", "scsi", "sda"],
      ["d", "scsi", "sdb"],
    ]);
  });

  test("an unknown bus is 400 naming the allowed ones; a cdrom on virtio is 400; nothing is made", async () => {
    const before = await volumes();
    const base = { cpus: 1, memory_mib: 64, root_disk_gb: 1, start: false };
    badBus(await api.post("/v1/vms", { ...base, name: "bus-x", disks: [{ size_gb: 1, bus: "ide" }] }), "bus");
    badBus(await api.post("/v1/vms", { ...base, name: "bus-x", root_disk_bus: "nvme" }), "root_disk_bus");
    const iso = await api.post("/v1/vms", {
      ...base,
      name: "bus-x",
      disks: [{ media: "cdrom", image: "none", bus: "virtio" }],
    });
    expect(iso.status).toBe(400);
    expect(iso.body.error.message).toContain("cdrom cannot be on bus virtio");
    expect((await api.get("/v1/vms/bus-x")).status).toBe(404);
    expect(await volumes()).toEqual(before);
  });
});

describe("snapshots", () => {
  test("a snapshot records each disk's target on its bus; revert keeps the buses", async () => {
    const snap = await api.post("/v1/vms/bus-a/snapshots?wait=true", { name: "s1" });
    expect(snap.status).toBe(200);
    expect(snap.body.result.disks.map((d: { name: string; target: string }) => [d.name, d.target])).toEqual([
      ["root", "vda"],
      ["s", "sdb"],
      ["v", "vdc"],
      ["t", "sdd"],
      ["u", "sde"],
    ]);
    expect((await api.post("/v1/vms/bus-a/snapshots/s1/revert?wait=true")).status).toBe(200);
    expect(shown(await api.get("/v1/vms/bus-a/disks")).map(([, bus]) => bus)).toEqual([
      "virtio",
      "scsi",
      "virtio",
      "sata",
      "usb",
    ]);
  });
});

describe("POST /v1/vms/{name}/disks", () => {
  test("adds to a stopped VM on any bus; the bus and target are in the result and the definition", async () => {
    const r = await api.post("/v1/vms/bus-b/disks?wait=true", { name: "sat", size_gb: 1, bus: "sata" });
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({ name: "sat", bus: "sata", target: "sdc" });
    const v = await api.post("/v1/vms/bus-b/disks?wait=true", { name: "vio", size_gb: 1, bus: "virtio" });
    expect(v.body.result).toMatchObject({ name: "vio", bus: "virtio", target: "vdd" });
    const def = await definition("bus-b");
    expect(def.disks.sort()).toEqual([
      ["sda", "scsi"],
      ["sdb", "scsi"],
      ["sdc", "sata"],
      ["vdd", "virtio"],
    ]);
    expect(def.controllers).toContain("sata/");
  });

  test("an unknown bus is 400 naming the allowed ones", async () => {
    badBus(await api.post("/v1/vms/bus-b/disks", { name: "z", size_gb: 1, bus: "ide" }), "bus");
  });

  test("a SATA disk cannot be added to or removed from a running VM: 409 before anything is made", async () => {
    expect((await api.post("/v1/vms/bus-b/start?wait=true")).status).toBe(200);
    const before = await volumes();
    const r = await api.post("/v1/vms/bus-b/disks", { name: "hot", size_gb: 1, bus: "sata" });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toContain("bus sata");
    expect(await volumes()).toEqual(before);
    expect(shown(await api.get("/v1/vms/bus-b/disks")).map(([n]) => n)).not.toContain("hot");
    const rm = await api.delete("/v1/vms/bus-b/disks/sat?wait=true");
    expect(rm.status).toBe(409);
    expect(rm.body.error.message).toContain("bus sata");
    expect(shown(await api.get("/v1/vms/bus-b/disks")).map(([n]) => n)).toContain("sat");
    expect((await api.post("/v1/vms/bus-b/stop?wait=true")).status).toBe(200);
    expect((await api.delete("/v1/vms/bus-b/disks/sat?wait=true")).status).toBe(200);
  });
});

describe("profiles", () => {
  test("a profile names a bus per disk and for the root; VMs made from it get them", async () => {
    const p = await api.post("/v1/profiles", {
      name: "bus-prof",
      cpus: 1,
      memory_mib: 64,
      root_disk_gb: 1,
      root_disk_bus: "sata",
      disks: [{ name: "data", size_gb: 1, bus: "usb" }],
    });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ root_disk_bus: "sata", disks: [{ name: "data", bus: "usb" }] });
    const r = await api.post("/v1/vms?wait=true", { name: "bus-p", profile: "bus-prof", start: false });
    expect(shown({ ...r, body: r.body.result.disks })).toEqual([
      ["root", "sata", "sda"],
      ["data", "usb", "sdb"],
    ]);
  });

  test("an unknown bus in a profile is 400 naming the allowed ones", async () => {
    badBus(
      await api.post("/v1/profiles", { name: "bus-bad", disks: [{ name: "d", size_gb: 1, bus: "ide" }] }),
      "bus",
    );
    badBus(await api.patch("/v1/profiles/bus-prof", { root_disk_bus: "ide" }), "root_disk_bus");
  });
});

describe("raw XML read back", () => {
  let paths: string[];
  beforeAll(async () => {
    const pool = await ensureStoragePool(core);
    paths = [];
    for (const n of ["x0", "x1", "x2", "x3"]) {
      const xml = buildVolumeXml({ name: `bus-${n}.qcow2`, capacityBytes: 2 ** 30, format: "qcow2" });
      paths.push((await core.hv.call("volume.create", { pool, xml })).path);
    }
  });
  const domXml = (name: string, disks: [string, string][]) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <devices>
    ${disks
      .map(
        ([dev, bus], i) =>
          `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${paths[i]}'/><target dev='${dev}' bus='${bus}'/></disk>`,
      )
      .join("\n    ")}
  </devices>
</domain>`;

  test("a domain defined from XML is recorded with each disk's bus as libvirt read it", async () => {
    const xml = domXml("bus-xml", [
      ["sda", "scsi"],
      ["vdb", "virtio"],
      ["sdc", "sata"],
      ["sdd", "usb"],
    ]);
    const r = await api.post("/v1/vms?wait=true", { xml });
    expect(r.status).toBe(200);
    expect(shown(await api.get("/v1/vms/bus-xml/disks")).map(([, bus, target]) => [target, bus])).toEqual([
      ["sda", "scsi"],
      ["vdb", "virtio"],
      ["sdc", "sata"],
      ["sdd", "usb"],
    ]);
  });

  test("an IDE disk (a bus berth neither writes nor records) is refused", async () => {
    const r = await api.post("/v1/vms?wait=true", { xml: domXml("bus-ide", [["hda", "ide"]]) });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/ide|hda/);
    expect((await api.get("/v1/vms/bus-ide")).status).toBe(404);
  });
});
