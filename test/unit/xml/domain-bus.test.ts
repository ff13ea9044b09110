// Disk buses in the XML berth writes: each bus's <disk> and controllers, target names across buses, and the read-back.
import { expect, test } from "bun:test";
import { targetIndex } from "../../../src/core/vms/xml-records.ts";
import { toXml } from "../../../src/xml/codec.ts";
import { buildDiskDeviceXml, buildDomainXml, DISK_BUSES, diskTarget } from "../../../src/xml/domain.ts";
import { readDomainXml } from "../../../src/xml/domain-read.ts";

const disk = (bus: (typeof DISK_BUSES)[number], unit: number) =>
  buildDiskDeviceXml({ path: `/pool/d${unit}.qcow2`, format: "qcow2", bus }, unit);

test("each bus's <disk>: scsi at a fixed drive unit, virtio as vdX, sata and usb as sdX placed by libvirt", () => {
  expect(disk("scsi", 0)).toBe(
    toXml({
      disk: {
        "@type": "file",
        "@device": "disk",
        driver: { "@name": "qemu", "@type": "qcow2" },
        source: { "@file": "/pool/d0.qcow2" },
        backingStore: "",
        target: { "@dev": "sda", "@bus": "scsi" },
        address: { "@type": "drive", "@controller": 0, "@bus": 0, "@target": 0, "@unit": 0 },
      },
    }),
  );
  expect(disk("virtio", 1)).toContain(`<target dev="vdb" bus="virtio"/>`);
  expect(disk("sata", 2)).toContain(`<target dev="sdc" bus="sata"/>`);
  expect(disk("usb", 3)).toContain(`<target dev="sdd" bus="usb"/>`);
  for (const [bus, unit] of [
    ["virtio", 1],
    ["sata", 2],
    ["usb", 3],
  ] as const) {
    expect(disk(bus, unit)).not.toContain("<address");
  }
});

test("controllers: virtio-scsi and a qemu-xhci USB controller always, an AHCI (sata) controller only with a SATA disk", () => {
  const dom = (buses: (typeof DISK_BUSES)[number][]) =>
    buildDomainXml({
      name: "b",
      type: "qemu",
      vcpus: 1,
      memoryMiB: 64,
      boot: { kind: "disk" },
      disks: buses.map((bus, i) => ({ path: `/pool/d${i}.qcow2`, format: "qcow2", bus })),
      nics: [],
    });
  const scsiOnly = dom(["scsi"]);
  expect(scsiOnly).toContain(`<controller type="scsi" index="0" model="virtio-scsi"/>`);
  expect(scsiOnly).toContain(`<controller type="usb" index="0" model="qemu-xhci" ports="15"/>`);
  expect(scsiOnly).not.toContain(`type="sata"`);
  const all = dom(["scsi", "virtio", "sata", "usb"]);
  expect(all).toContain(`<controller type="sata" index="0"/>`);
  expect(all.match(/<controller /g)?.length).toBe(3);
});

test("target names never collide across buses: one letter per unit, vdX on virtio and sdX on the others", () => {
  expect(DISK_BUSES).toEqual(["scsi", "virtio", "sata", "usb"]);
  expect(diskTarget("scsi", 0)).toBe("sda");
  expect(diskTarget("virtio", 0)).toBe("vda");
  expect(diskTarget("sata", 1)).toBe("sdb");
  expect(diskTarget("usb", 27)).toBe("sdab");
  // Every unit of a VM on every mix of buses: the sd* names are all distinct, as are the vd* names.
  const names = new Set<string>();
  for (let unit = 0; unit < 16; unit++) {
    const bus = DISK_BUSES[unit % DISK_BUSES.length] as (typeof DISK_BUSES)[number];
    const name = diskTarget(bus, unit);
    expect(names.has(name)).toBe(false);
    names.add(name);
    expect(targetIndex(name)).toBe(unit);
    for (const other of DISK_BUSES) {
      if (other !== bus && (other === "virtio") === (bus === "virtio"))
        expect(diskTarget(other, unit)).toBe(name);
    }
  }
});

test("a domain read back yields each disk's bus and the unit it was written at", () => {
  const xml = buildDomainXml({
    name: "rb",
    type: "qemu",
    vcpus: 1,
    memoryMiB: 64,
    boot: { kind: "disk" },
    disks: [
      { path: "/pool/r.qcow2", format: "qcow2", bus: "virtio" },
      { path: "/pool/a.qcow2", format: "qcow2", bus: "scsi" },
      { path: "/pool/b.qcow2", format: "qcow2", bus: "sata" },
      { path: "/pool/c.qcow2", format: "qcow2", bus: "usb", unit: 5 },
    ],
    nics: [],
  });
  const disks = readDomainXml(xml).disks.map((d) => ({
    bus: d.bus,
    target: d.target,
    unit: targetIndex(d.target),
  }));
  expect(disks).toEqual([
    { bus: "virtio", target: "vda", unit: 0 },
    { bus: "scsi", target: "sdb", unit: 1 },
    { bus: "sata", target: "sdc", unit: 2 },
    { bus: "usb", target: "sdf", unit: 5 },
  ]);
});
