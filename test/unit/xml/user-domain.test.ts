// User-supplied domain XML: its head, berth's metadata element, and the policy of what a guest may reach.
import { describe, expect, test } from "bun:test";
import {
  berthMetadataXml,
  checkUserDomain,
  type DiskVolume,
  type DomainPolicy,
  diskSources,
  hostEmulators,
  readDomainHead,
  sameUuid,
} from "../../../src/xml/user-domain.ts";

const POOL = "/var/lib/berth/pool";
const IMAGE = { path: `${POOL}/img-1.qcow2`, format: "qcow2" as const };
const policy: DomainPolicy = {
  types: ["qemu"],
  name: "web",
  consoleDir: "/var/lib/berth/console",
  networks: new Set(["lan"]),
  emulators: new Set(["/usr/bin/qemu-system-x86_64"]),
  graphicsPassword: false,
  volumes: new Map<string, DiskVolume | string>([
    [`${POOL}/vm-me-0.qcow2`, { format: "qcow2", backing: IMAGE, readOnly: false }],
    [`${POOL}/vm-me-1.qcow2`, { format: "raw", backing: null, readOnly: false }],
    [IMAGE.path, { format: "qcow2", backing: null, readOnly: true }],
    [`${POOL}/vm-other-0.qcow2`, `${POOL}/vm-other-0.qcow2 is a disk of another vm`],
  ]),
  bootFiles: new Set([`${POOL}/img-2-kernel`]),
  otherLogs: new Set(["/var/lib/berth/console/other.log"]),
};

const dom = (devices = "", extra = "", type = "qemu") =>
  `<domain type='${type}'><name>web</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
  `<os><type arch='x86_64'>hvm</type></os>${extra}<devices>${devices}</devices></domain>`;
const disk = (source: string, more = "", type = "file") =>
  `<disk type='${type}' device='disk'><driver name='qemu' type='qcow2'/>${source}<target dev='sda' bus='scsi'/>${more}</disk>`;
const check = (xml: string, p: Partial<DomainPolicy> = {}, canonical = false) =>
  checkUserDomain(xml, { ...policy, ...p }, canonical);
const problems = (xml: string, p: Partial<DomainPolicy> = {}, canonical = false) =>
  check(xml, p, canonical).problems;

describe("readDomainHead", () => {
  test("reads name, uuid and type", () => {
    const h = readDomainHead(
      `<?xml version="1.0"?><domain type="kvm"><name>a-b</name><uuid>ABC</uuid><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>`,
    );
    expect(h).toEqual({ name: "a-b", uuid: "ABC", type: "kvm" });
  });

  test("refuses what is not one <domain> with one name, and DOCTYPEs", () => {
    const refused: [string, RegExp][] = [
      ["hello", /root element must be <domain> \(got none\)/],
      ["<network><name>x</name></network>", /got <network>/],
      ["<domain/><domain/>", /single element/],
      ["<domain type='qemu'><memory>1</memory></domain>", /no <name>/],
      ["<domain><name>a</name><name>b</name></domain>", /more than one <name>/],
      ["<domain><name>a</name><uuid>1</uuid><uuid>2</uuid></domain>", /more than one <uuid>/],
      [`<!DOCTYPE domain [<!ENTITY p "x">]><domain><name>&p;</name></domain>`, /DOCTYPE/],
    ];
    for (const [xml, re] of refused) expect(() => readDomainHead(xml)).toThrow(re);
  });
});

test("sameUuid ignores case and dashes, and never matches junk", () => {
  expect(sameUuid("81B44476-2CA9-4CC8-B973-E9B566F9CFAD", "81b444762ca94cc8b973e9b566f9cfad")).toBe(true);
  expect(sameUuid("81b44476-2ca9-4cc8-b973-e9b566f9cfad", "81b44476-2ca9-4cc8-b973-e9b566f9cfae")).toBe(
    false,
  );
  expect(sameUuid("", "")).toBe(false);
  expect(sameUuid("zz", "zz")).toBe(false);
});

test("berthMetadataXml is one escaped <vm id> element (golden)", () => {
  expect(berthMetadataXml("0b6f9c1e-1")).toBe(`<vm id="0b6f9c1e-1"/>`);
  expect(berthMetadataXml(`a"<&`)).toBe(`<vm id="a&quot;&lt;&amp;"/>`);
});

test("hostEmulators reads each guest arch's default emulator from libvirt's capabilities", () => {
  const caps = `<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
    <guest><os_type>hvm</os_type><arch name='i686'><emulator>/usr/bin/qemu-system-i386</emulator><domain type='qemu'/></arch></guest>
    <guest><os_type>hvm</os_type><arch name='x86_64'><emulator>/usr/bin/qemu-system-x86_64</emulator><domain type='qemu'/><domain type='kvm'/></arch></guest>
  </capabilities>`;
  expect(hostEmulators(caps)).toEqual(["/usr/bin/qemu-system-i386", "/usr/bin/qemu-system-x86_64"]);
  expect(hostEmulators("<capabilities/>")).toEqual([]);
});

test("diskSources lists the files the disks name", () => {
  const xml = dom(
    disk(`<source file='${POOL}/a.qcow2'/>`) +
      `<disk type='file' device='cdrom'><target dev='sdb' bus='scsi'/></disk>` +
      disk(`<source file='relative.qcow2'/>`),
  );
  expect(diskSources(xml)).toEqual([`${POOL}/a.qcow2`, "relative.qcow2"]);
});

describe("checkUserDomain: disks name berth's volumes, in berth's format, with berth's backing chain", () => {
  test("berth writes each disk's format and its backing chain (golden)", () => {
    const xml = dom(
      `<disk type='file' device='disk'><source file='${POOL}/vm-me-0.qcow2'/><target dev='sda' bus='scsi'/></disk>` +
        `<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/><source file='${POOL}/vm-me-1.qcow2'/><target dev='sdb' bus='scsi'/></disk>` +
        `<disk type='file' device='disk'><source file='${IMAGE.path}'/><target dev='sdc' bus='scsi'/><readonly/></disk>` +
        `<disk type='file' device='cdrom'><target dev='sdd' bus='scsi'/></disk>`,
      `<description>a &amp; "b"</description>`,
    );
    const out = check(xml);
    expect(out.problems).toEqual([]);
    expect(out.xml).toBe(`<domain type="qemu">
  <name>web</name>
  <memory unit="MiB">64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch="x86_64">hvm</type>
  </os>
  <description>a &amp; &quot;b&quot;</description>
  <devices>
    <disk type="file" device="disk">
      <source file="/var/lib/berth/pool/vm-me-0.qcow2"/>
      <target dev="sda" bus="scsi"/>
      <driver name="qemu" type="qcow2"/>
      <backingStore type="file">
        <format type="qcow2"/>
        <source file="/var/lib/berth/pool/img-1.qcow2"/>
        <backingStore/>
      </backingStore>
    </disk>
    <disk type="file" device="disk">
      <driver name="qemu" type="raw" cache="none"/>
      <source file="/var/lib/berth/pool/vm-me-1.qcow2"/>
      <target dev="sdb" bus="scsi"/>
      <backingStore/>
    </disk>
    <disk type="file" device="disk">
      <source file="/var/lib/berth/pool/img-1.qcow2"/>
      <target dev="sdc" bus="scsi"/>
      <readonly/>
      <driver name="qemu" type="qcow2"/>
      <backingStore/>
    </disk>
    <disk type="file" device="cdrom">
      <target dev="sdd" bus="scsi"/>
    </disk>
  </devices>
</domain>
`);
    // What berth defines passes again as libvirt's canonical reading would: the chains are explicit.
    expect(problems(out.xml, {}, true)).toEqual([]);
  });

  test("a driver type other than berth's record is refused, naming the volume and the record", () => {
    expect(problems(dom(disk(`<source file='${POOL}/vm-me-1.qcow2'/>`)))).toEqual([
      `<domain/devices/disk> driver type qcow2 is not berth's record of ${POOL}/vm-me-1.qcow2 (raw): leave it out or write raw`,
    ]);
  });

  test("a backing chain other than berth's is refused; libvirt's reading must keep berth's chain explicit", () => {
    const own = `<source file='${POOL}/vm-me-0.qcow2'/>`;
    const refused = [
      `<backingStore/>`,
      `<backingStore type='file'><format type='raw'/><source file='/etc/shadow'/><backingStore/></backingStore>`,
      `<backingStore type='file'><format type='qcow2'/><source file='${IMAGE.path}'/></backingStore>`,
    ];
    for (const chain of refused) {
      expect(problems(dom(disk(own, chain)))).toEqual([
        `<domain/devices/disk> the backingStore of ${POOL}/vm-me-0.qcow2 is not berth's (image ${IMAGE.path}, then <backingStore/>): leave it out`,
      ]);
    }
    expect(problems(dom(disk(own)))).toEqual([]);
    expect(problems(dom(disk(own)), {}, true)).toEqual([
      `<domain/devices/disk> libvirt left the backing chain of ${POOL}/vm-me-0.qcow2 open`,
    ]);
  });

  test("only volumes berth lists for this vm; images read-only; no relative or outside paths", () => {
    const refused: [string, string][] = [
      [
        disk(`<source file='/etc/shadow'/>`),
        "/etc/shadow is not a volume of berth's pool that this vm may use",
      ],
      [disk(`<source file='tmp/x.qcow2'/>`), "source tmp/x.qcow2 is not an absolute path"],
      [disk(`<source file='${POOL}/vm-other-0.qcow2'/>`), `${POOL}/vm-other-0.qcow2 is a disk of another vm`],
      [
        disk(`<source file='${IMAGE.path}'/>`),
        `${IMAGE.path} is an image: attach it read-only (<readonly/>) or as a cdrom`,
      ],
      [
        "<disk type='file' device='disk'><target dev='sdb' bus='scsi'/></disk>",
        "needs <source file=…> naming a volume of berth's pool",
      ],
    ];
    for (const [devices, why] of refused)
      expect(problems(dom(devices))).toEqual([`<domain/devices/disk> ${why}`]);
    expect(problems(dom(disk(`<source dev='/dev/sda'/>`, "", "block")))).toEqual([
      "domain/devices/disk/source@dev is not allowed",
      "domain/devices/disk@type: block is not one of file",
    ]);
    // A disk without type is a file disk to libvirt: it gets the same checks.
    expect(problems(dom(disk(`<source file='/etc/shadow'/>`).replace(" type='file'", "")))).toEqual([
      "<domain/devices/disk> /etc/shadow is not a volume of berth's pool that this vm may use",
    ]);
  });

  test("boot files, console logs and NVRAM only where berth keeps them", () => {
    const os = (inner: string) =>
      dom().replace("<type arch='x86_64'>hvm</type>", `<type arch='x86_64'>hvm</type>${inner}`);
    expect(problems(os(`<kernel>${POOL}/img-2-kernel</kernel>`))).toEqual([]);
    expect(problems(os(`<kernel>${POOL}/../img-2-kernel</kernel>`))).toEqual([
      `<domain/os/kernel> ${POOL}/../img-2-kernel is not a kernel or initrd of a ready image`,
    ]);
    const realpath = (p: string) => (p === `${POOL}/img-2-kernel` ? "/boot/vmlinuz" : p);
    expect(problems(os(`<kernel>${POOL}/img-2-kernel</kernel>`), { realpath })).toHaveLength(1);
    expect(problems(os("<nvram>/var/lib/libvirt/qemu/nvram/other_VARS.fd</nvram>"))).toEqual([
      "<domain/os/nvram> nvram /var/lib/libvirt/qemu/nvram/other_VARS.fd must be /var/lib/libvirt/qemu/nvram/web_VARS.fd (or left out)",
    ]);
    const log = (file: string) => problems(dom(`<serial type='pty'><log file='${file}'/></serial>`));
    expect(log("/var/lib/berth/console/web.log")).toEqual([]);
    for (const file of ["/var/lib/berth/console/other.log", "console/web.log", "/etc/passwd"]) {
      expect(log(file)).toEqual([
        `domain/devices/serial/log@file: ${file} must be a .log file of berth's console directory /var/lib/berth/console, not another vm's`,
      ]);
    }
  });

  test("every problem is listed once, and a refused document is never rewritten", () => {
    const xml = dom(disk(`<source file='/etc/shadow'/>`) + disk(`<source file='/etc/shadow'/>`), "", "xen");
    const out = check(xml);
    expect(out.problems).toEqual([
      "<domain/devices/disk> /etc/shadow is not a volume of berth's pool that this vm may use",
      "domain@type: domain type xen is not allowed here: use qemu",
    ]);
    expect(out.xml).toBe(xml);
  });
});
