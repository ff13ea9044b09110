// readBerthId and readDomainXml: berth's metadata id, and a domain's facts, read from real libvirt XML shapes.
import { expect, test } from "bun:test";
import { buildDomainXml } from "../../../src/xml/domain.ts";
import { readBerthId, readDomainXml } from "../../../src/xml/domain-read.ts";

test("readBerthId reads the id with or without a namespace prefix", () => {
  expect(readBerthId(`<vm id="id-1"/>`)).toBe("id-1");
  expect(readBerthId(`<vm xmlns="https://berth.dev/xmlns/vm/1" id="a&amp;b"/>`)).toBe("a&b");
  expect(readBerthId(`<berth:vm xmlns:berth="https://berth.dev/xmlns/vm/1" id="vm-0001"/>`)).toBe("vm-0001");
});

test("readBerthId is null for other elements, a missing or empty id, or several roots", () => {
  expect(readBerthId(`<vmx id="x"/>`)).toBeNull();
  expect(readBerthId(`<berth:host id="x"/>`)).toBeNull();
  expect(readBerthId(`<vm/>`)).toBeNull();
  expect(readBerthId(`<vm id=""/>`)).toBeNull();
  expect(readBerthId(`<vm id="a"/><vm id="b"/>`)).toBeNull();
  expect(readBerthId("")).toBeNull();
});

// What libvirt gives back for a berth domain (virDomainGetXMLDesc), trimmed.
const LIBVIRT_XML = `<domain type='qemu' id='3'>
  <name>web-1</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
  <description>db &amp; cache</description>
  <metadata>
    <berth:vm xmlns:berth="https://berth.dev/xmlns/vm/1" id="vm-0001"/>
  </metadata>
  <memory unit='KiB'>262144</memory>
  <currentMemory unit='KiB'>262144</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/berth/pool/vm-0001-0.qcow2' index='2'/>
      <backingStore type='file' index='3'>
        <format type='qcow2'/>
        <source file='/var/lib/berth/pool/debian.qcow2'/>
      </backingStore>
      <target dev='sda' bus='scsi'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw'/>
      <source dev='/dev/vg0/data'/>
      <target dev='sdb' bus='scsi'/>
      <address type='drive' controller='0' bus='0' target='0' unit='1'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/berth/pool/install.iso'/>
      <target dev='sdc' bus='scsi'/>
      <readonly/>
    </disk>
    <disk type='network' device='disk'>
      <source protocol='nbd' name='x'/>
      <target dev='sdd' bus='scsi'/>
    </disk>
    <disk type='file' device='floppy'>
      <source file='/f.img'/>
      <target dev='fda' bus='fdc'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default' portid='x' bridge='virbr0'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:00:00:02'/>
      <source bridge='br0'/>
      <vlan>
        <tag id='42'/>
      </vlan>
      <virtualport type='openvswitch'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:00:00:03'/>
      <source bridge='br0'/>
      <vlan trunk='yes'>
        <tag id='10'/>
        <tag id='20'/>
      </vlan>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:00:00:04'/>
    </interface>
  </devices>
</domain>`;

test("readDomainXml reads name, uuid, description, vcpus (current), memory, boot, disks and nics", () => {
  expect(readDomainXml(LIBVIRT_XML)).toEqual({
    name: "web-1",
    uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809",
    description: "db & cache",
    vcpus: 2,
    memoryMiB: 256,
    boot: "disk",
    disks: [
      {
        path: "/var/lib/berth/pool/vm-0001-0.qcow2",
        format: "qcow2",
        device: "disk",
        target: "sda",
        bus: "scsi",
        unit: 0,
      },
      { path: "/dev/vg0/data", format: "raw", device: "disk", target: "sdb", bus: "scsi", unit: 1 },
      {
        path: "/var/lib/berth/pool/install.iso",
        format: "raw",
        device: "cdrom",
        target: "sdc",
        bus: "scsi",
        unit: null,
      },
    ],
    nics: [
      { kind: "network", network: "default", mac: "52:54:00:12:34:56" },
      { kind: "bridge", bridge: "br0", vlan: 42, trunk: [], mac: "52:54:00:00:00:02" },
      { kind: "bridge", bridge: "br0", vlan: null, trunk: [10, 20], mac: "52:54:00:00:00:03" },
    ],
  });
});

test("readDomainXml reads what buildDomainXml writes (kernel boot, MiB memory, one disk, no nics)", () => {
  const xml = buildDomainXml({
    name: "k-1",
    type: "qemu",
    vcpus: 1,
    memoryMiB: 128,
    boot: { kind: "kernel", kernel: "/k/vmlinuz" },
    disks: [{ path: "/p/root.qcow2", format: "qcow2" }],
    nics: [],
    berthId: "id-9",
  });
  expect(readDomainXml(xml)).toEqual({
    name: "k-1",
    uuid: null,
    description: "",
    vcpus: 1,
    memoryMiB: 128,
    boot: "kernel",
    disks: [{ path: "/p/root.qcow2", format: "qcow2", device: "disk", target: "sda", bus: "scsi", unit: 0 }],
    nics: [],
  });
});

test("memory units: KiB by default, bytes, G and GB", () => {
  const mem = (m: string) =>
    readDomainXml(`<domain><name>m</name>${m}<vcpu>1</vcpu><os><boot dev='cdrom'/></os></domain>`);
  expect(mem("<memory>524288</memory>").memoryMiB).toBe(512);
  expect(mem("<memory unit='b'>1073741824</memory>").memoryMiB).toBe(1024);
  expect(mem("<memory unit='G'>2</memory>").memoryMiB).toBe(2048);
  expect(mem("<memory unit='GB'>1</memory>").memoryMiB).toBe(953);
  expect(mem("<memory unit='KiB'>1</memory>").boot).toBe("cdrom");
  expect(() => mem("<memory unit='parsecs'>1</memory>")).toThrow(/unknown memory size/);
});

test("readDomainXml refuses what is not a domain", () => {
  expect(() => readDomainXml("<network><name>n</name></network>")).toThrow(/not a domain/);
  expect(() => readDomainXml("<domain><uuid>x</uuid></domain>")).toThrow(/no name/);
});
