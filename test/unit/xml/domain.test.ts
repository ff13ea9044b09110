// buildDomainXml against golden XML: virtio-scsi disks in order with explicit backing chains, OVS/VLAN NICs, every value escaped.
import { expect, test } from "bun:test";
import { fromXml } from "../../../src/xml/codec.ts";
import { buildDomainXml, scsiTarget } from "../../../src/xml/domain.ts";

const GOLDEN = `<domain type="qemu">
  <name>web-1</name>
  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>
  <description>it&apos;s &quot;&lt;quoted&gt;&quot; &amp; more</description>
  <metadata>
    <berth:vm xmlns:berth="https://berth.dev/xmlns/vm/1" id="vm-0001"/>
  </metadata>
  <memory unit="MiB">256</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch="x86_64" machine="pc">hvm</type>
    <kernel>/k/vmlinuz</kernel>
    <initrd>/k/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type="scsi" index="0" model="virtio-scsi"/>
    <controller type="usb" index="0" model="qemu-xhci" ports="15"/>
    <disk type="file" device="disk">
      <driver name="qemu" type="qcow2"/>
      <source file="/pool/web-1-root.qcow2"/>
      <backingStore type="file">
        <format type="qcow2"/>
        <source file="/pool/img-debian.qcow2"/>
        <backingStore/>
      </backingStore>
      <target dev="sda" bus="scsi"/>
      <address type="drive" controller="0" bus="0" target="0" unit="0"/>
    </disk>
    <disk type="file" device="disk">
      <driver name="qemu" type="raw"/>
      <source file="/pool/a&amp;b&lt;c&gt;.img"/>
      <backingStore/>
      <target dev="sdb" bus="scsi"/>
      <address type="drive" controller="0" bus="0" target="0" unit="1"/>
    </disk>
    <interface type="network">
      <mac address="52:54:00:12:34:56"/>
      <source network="default"/>
      <model type="virtio"/>
    </interface>
    <interface type="bridge">
      <source bridge="br0"/>
      <virtualport type="openvswitch"/>
      <model type="virtio"/>
      <vlan>
        <tag id="10"/>
      </vlan>
    </interface>
    <interface type="bridge">
      <source bridge="br0"/>
      <virtualport type="openvswitch"/>
      <model type="virtio"/>
      <vlan trunk="yes">
        <tag id="10"/>
        <tag id="20"/>
      </vlan>
    </interface>
    <serial type="pty">
      <target port="0"/>
      <log file="/var/lib/berth/console/web-1.log" append="on"/>
    </serial>
    <console type="pty">
      <target type="serial" port="0"/>
    </console>
  </devices>
</domain>
`;

test("a kernel-boot domain with an overlay and a standalone disk (explicit backing chains) and three NICs matches the golden XML", () => {
  const xml = buildDomainXml({
    name: "web-1",
    uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809",
    type: "qemu",
    vcpus: 2,
    memoryMiB: 256,
    boot: { kind: "kernel", kernel: "/k/vmlinuz", initrd: "/k/initrd.img", cmdline: "console=ttyS0 quiet" },
    disks: [
      {
        path: "/pool/web-1-root.qcow2",
        format: "qcow2",
        backing: { path: "/pool/img-debian.qcow2", format: "qcow2" },
      },
      { path: "/pool/a&b<c>.img", format: "raw" },
    ],
    nics: [
      { kind: "network", network: "default", mac: "52:54:00:12:34:56" },
      { kind: "ovs", bridge: "br0", vlan: 10 },
      { kind: "ovs", bridge: "br0", trunk: [10, 20] },
    ],
    consoleLog: "/var/lib/berth/console/web-1.log",
    berthId: "vm-0001",
    description: `it's "<quoted>" & more`,
  });
  expect(xml).toBe(GOLDEN);
});

test("hostile text cannot inject elements: it round-trips as text", () => {
  const evil = `x</name><devices><disk type='block'><source dev='/dev/sda'/></disk></devices><name>`;
  const xml = buildDomainXml({
    name: "n",
    type: "kvm",
    vcpus: 1,
    memoryMiB: 64,
    boot: { kind: "disk" },
    disks: [],
    nics: [],
    description: evil,
  });
  const doc = fromXml(xml).domain as Record<string, unknown>;
  expect(doc.description).toBe(evil);
  expect(doc.name).toBe("n");
  expect(xml).toContain(`<boot dev="hd"/>`);
});

test("SCSI target names follow the guest's sdX order past sdz", () => {
  expect([0, 1, 25, 26, 27, 701, 702].map(scsiTarget)).toEqual([
    "sda",
    "sdb",
    "sdz",
    "sdaa",
    "sdab",
    "sdzz",
    "sdaaa",
  ]);
});
