// User-supplied domain XML: its head, berth's metadata element, and the policy of what a guest may reach.
import { describe, expect, test } from "bun:test";
import {
  berthMetadataXml,
  type DomainPolicy,
  domainPolicyProblems,
  readDomainHead,
  sameUuid,
} from "../../../src/xml/user-domain.ts";

const POOL = "/var/lib/berth/pool";
const policy: DomainPolicy = {
  types: ["qemu"],
  name: "web",
  poolDir: POOL,
  consoleDir: "/var/lib/berth/console",
  networks: new Set(["lan"]),
  images: new Map([
    [`${POOL}/img-1.qcow2`, "debian"],
    [`${POOL}/img-2-kernel`, "tiny"],
  ]),
  ownDisks: new Set([`${POOL}/vm-me-0.qcow2`]),
  otherDisks: new Set([`${POOL}/vm-other-0.qcow2`, `${POOL}/theirs.qcow2`]),
  otherLogs: new Set(["/var/lib/berth/console/other.log"]),
};

const dom = (devices = "", extra = "", type = "qemu") =>
  `<domain type='${type}'><name>web</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
  `<os><type arch='x86_64'>hvm</type></os>${extra}<devices>${devices}</devices></domain>`;
const disk = (source: string, more = "", type = "file") =>
  `<disk type='${type}' device='disk'><driver name='qemu' type='qcow2'/>${source}<target dev='sda' bus='scsi'/>${more}</disk>`;
const problems = (xml: string, p: Partial<DomainPolicy> = {}) =>
  domainPolicyProblems(xml, { ...policy, ...p });

describe("readDomainHead", () => {
  test("reads name, uuid, type and every emulator", () => {
    const h = readDomainHead(
      `<?xml version="1.0"?><domain type="kvm"><name>a-b</name><uuid>ABC</uuid><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>`,
    );
    expect(h).toEqual({ name: "a-b", uuid: "ABC", type: "kvm", emulators: ["/usr/bin/qemu-system-x86_64"] });
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

  test("finds emulators wherever they hide, prefixed or repeated", () => {
    const h = readDomainHead(
      `<domain><name>a</name><devices/><devices><emulator>/x</emulator></devices><q:emulator xmlns:q="u">/y</q:emulator></domain>`,
    );
    expect(h.emulators).toEqual(["/x", "/y"]);
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

describe("domainPolicyProblems", () => {
  test("a guest on pool files, a berth network, a pty console logged in the console dir is fine", () => {
    const xml = dom(
      disk(`<source file='${POOL}/mine.qcow2'/>`) +
        disk(`<source file='${POOL}/vm-me-0.qcow2'/>`) +
        `<disk type='file' device='cdrom'><source file='${POOL}/img-1.qcow2'/><target dev='sdb' bus='scsi'/></disk>` +
        `<disk type='file' device='disk'><source file='${POOL}/img-1.qcow2'/><target dev='sdc' bus='scsi'/><readonly/></disk>` +
        `<disk type='file' device='cdrom'><target dev='sdd' bus='scsi'/></disk>` +
        `<interface type='network'><mac address='52:54:00:00:00:01'/><source network='lan'/><model type='virtio'/></interface>` +
        `<serial type='pty'><log file='/var/lib/berth/console/web.log'/></serial><console type='pty'/>` +
        `<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>` +
        `<emulator>/usr/bin/qemu-system-x86_64</emulator><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>` +
        `<graphics type='vnc' port='-1'/><audio id='1' type='none'/>`,
      `<description>/not/a/path</description><metadata><x:y xmlns:x="u" p="/etc/shadow"/></metadata>` +
        `<resource><partition>/machine</partition></resource><seclabel type='dynamic' model='dac'/>`,
    ).replace(
      "<type arch='x86_64'>hvm</type>",
      `<type arch='x86_64'>hvm</type><kernel>${POOL}/img-2-kernel</kernel><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>`,
    );
    expect(problems(xml)).toEqual([]);
  });

  test("the domain type must be one berth runs guests with", () => {
    expect(problems(dom("", "", "test"))).toEqual(["domain type test is not allowed here: use qemu"]);
    expect(problems(dom("", "", "kvm"))).toHaveLength(1);
    expect(problems(dom("", "", "kvm"), { types: ["kvm", "qemu"] })).toEqual([]);
    expect(problems(dom().replace(" type='qemu'", ""))).toEqual([
      "domain type (none) is not allowed here: use qemu",
    ]);
  });

  test("disks: host block devices, other types, paths outside the pool and others' volumes are refused", () => {
    const refused: [string, RegExp][] = [
      [disk(`<source dev='/dev/sda'/>`, "", "block"), /disk type block is not allowed/],
      [
        disk(`<source protocol='nbd' name='x'><host name='10.0.0.1'/></source>`, "", "network"),
        /disk type network/,
      ],
      [disk(`<source pool='p' volume='v'/>`, "", "volume"), /disk type volume/],
      [disk(`<source file='/etc/shadow'/>`), /not a file of berth's pool directory/],
      [disk(`<source file='${POOL}/../secret.qcow2'/>`), /not a file of berth's pool directory/],
      [disk(`<source file='${POOL}/sub/x.qcow2'/>`), /not a file of berth's pool directory/],
      [disk(`<source file='relative.qcow2'/>`), /not a file of berth's pool directory/],
      [disk(`<source file='${POOL}/vm-other-0.qcow2'/>`), /is a disk of another vm/],
      [disk(`<source file='${POOL}/vm-ghost-1-cidata.iso'/>`), /named like a berth vm volume/],
      [disk(`<source file='${POOL}/theirs.qcow2'/>`), /is a disk of another vm/],
      [disk(`<source file='${POOL}/img-9.qcow2'/>`), /no ready image/],
      [disk(`<source file='${POOL}/img-1.qcow2'/>`), /is image debian: attach it read-only/],
      [
        disk(
          `<source file='${POOL}/a.qcow2'/>`,
          `<backingStore type='file'><format type='raw'/><source file='/dev/sda'/></backingStore>`,
        ),
        /backing file \/dev\/sda/,
      ],
      [
        disk(
          `<source file='${POOL}/a.qcow2'/>`,
          `<backingStore type='block'><source dev='/dev/sda'/></backingStore>`,
        ),
        /backing store type block/,
      ],
      [disk(`<source file='${POOL}/a.qcow2'><seclabel model='dac' relabel='no'/></source>`), /seclabel/],
      [
        `<disk type='file' device='lun'><source file='${POOL}/a'/><target dev='sda'/></disk>`,
        /disk device lun/,
      ],
    ];
    for (const [devices, re] of refused) {
      const found = problems(dom(devices));
      expect({ devices, found }).toEqual({
        devices,
        found: expect.arrayContaining([expect.stringMatching(re)]),
      });
    }
  });

  test("a link out of the pool is refused once resolved", () => {
    const realpath = (p: string) => (p === `${POOL}/link.qcow2` ? "/etc/shadow" : p);
    expect(problems(dom(disk(`<source file='${POOL}/link.qcow2'/>`)), { realpath })).toEqual([
      `disk ${POOL}/link.qcow2 is not a file of berth's pool directory ${POOL}`,
    ]);
  });

  test("interfaces only on berth networks, without overrides", () => {
    const refused: [string, RegExp][] = [
      [`<interface type='bridge'><source bridge='br-mgmt'/></interface>`, /interface type bridge/],
      [`<interface type='direct'><source dev='eth0' mode='bridge'/></interface>`, /interface type direct/],
      [`<interface type='ethernet'><script path='/tmp/x'/></interface>`, /interface <script>/],
      [
        `<interface type='network'><source network='default'/></interface>`,
        /network default is not a berth network/,
      ],
      [
        `<interface type='network'><source network='lan'/><vlan><tag id='5'/></vlan></interface>`,
        /interface <vlan>/,
      ],
      [
        `<interface type='network'><source network='lan'/><virtualport type='openvswitch'/></interface>`,
        /<virtualport>/,
      ],
      [`<interface type='network'><source network='lan' portgroup='x'/></interface>`, /portgroups/],
      [
        `<interface type='network'><source network='lan'/><backend tap='/dev/net/tun'/></interface>`,
        /<backend>/,
      ],
      [
        `<interface type='network'><source network='lan'/><rom file='/etc/shadow'/></interface>`,
        /host path \/etc\/shadow/,
      ],
      [
        `<interface type='hostdev'><source><address type='pci' bus='0x01'/></source></interface>`,
        /type hostdev/,
      ],
    ];
    for (const [devices, re] of refused) {
      const found = problems(dom(devices));
      expect({ devices, found }).toEqual({
        devices,
        found: expect.arrayContaining([expect.stringMatching(re)]),
      });
    }
  });

  test("host devices, host files through chardevs and passthrough of any kind are refused", () => {
    const refused: [string, string, RegExp][] = [
      [
        `<hostdev mode='subsystem' type='pci'><source><address bus='0x01'/></source></hostdev>`,
        "",
        /<hostdev> is not allowed/,
      ],
      [`<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>`, "", /<filesystem>/],
      [`<shmem name='x'/>`, "", /<shmem>/],
      [`<smartcard mode='host'/>`, "", /<smartcard>/],
      [`<serial type='file'><source path='/etc/passwd'/></serial>`, "", /serial type file/],
      [`<serial type='dev'><source path='/dev/ttyS0'/></serial>`, "", /serial type dev/],
      [`<serial type='tcp'><source mode='bind' host='0.0.0.0' service='1'/></serial>`, "", /serial type tcp/],
      [`<channel type='unix'><source mode='bind' path='/etc/x'/></channel>`, "", /host path \/etc\/x/],
      [`<serial type='pty'><log file='/etc/passwd'/></serial>`, "", /console log \/etc\/passwd/],
      [`<serial type='pty'><log file='/var/lib/berth/console/other.log'/></serial>`, "", /not another vm's/],
      [`<emulator>/bin/sh</emulator>`, "", /emulator \/bin\/sh/],
      [`<emulator>&#47;bin/sh</emulator>`, "", /emulator &#47;bin\/sh/],
      [
        `<input type='passthrough' bus='virtio'><source evdev='/dev/input/event0'/></input>`,
        "",
        /input type passthrough/,
      ],
      [
        `<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>`,
        "",
        /tpm backend passthrough/,
      ],
      [`<rng model='virtio'><backend model='random'>/dev/sda</backend></rng>`, "", /rng device \/dev\/sda/],
      [`<rng model='virtio'><backend model='egd' type='tcp'/></rng>`, "", /rng backend egd/],
      [
        `<redirdev bus='usb' type='tcp'><source mode='connect' host='1.2.3.4' service='1'/></redirdev>`,
        "",
        /redirdev type tcp/,
      ],
      [`<graphics type='egl-headless'/>`, "", /graphics type egl-headless/],
      [`<graphics type='vnc' socket='/etc/x.sock'/>`, "", /host path \/etc\/x.sock/],
      [`<audio id='1' type='file' path='/etc/x.wav'/>`, "", /audio type file/],
      [
        `<memory model='nvdimm'><source><path>/dev/pmem0</path></source></memory>`,
        "",
        /host path \/dev\/pmem0/,
      ],
      ["", `<seclabel type='none'/>`, /seclabel/],
      ["", `<seclabel type='static' model='dac'><label>+0:+0</label></seclabel>`, /seclabel/],
      [
        "",
        `<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-x'/></qemu:commandline>`,
        /qemu:commandline/,
      ],
      [
        "",
        `<sysinfo type='fwcfg'><entry name='opt/x' file='/etc/shadow'/></sysinfo>`,
        /host path \/etc\/shadow/,
      ],
      [
        "",
        `<blkiotune><device><path>/dev/sda</path><weight>1</weight></device></blkiotune>`,
        /host path \/dev\/sda/,
      ],
      ["", `<resource><partition>/other</partition></resource>`, /resource partition/],
    ];
    for (const [devices, extra, re] of refused) {
      const found = problems(dom(devices, extra));
      expect({ devices, extra, found }).toEqual({
        devices,
        extra,
        found: expect.arrayContaining([expect.stringMatching(re)]),
      });
    }
  });

  test("boot files from the pool; firmware and NVRAM only where libvirt keeps them", () => {
    const os = (inner: string) =>
      dom().replace("<type arch='x86_64'>hvm</type>", `<type arch='x86_64'>hvm</type>${inner}`);
    const refused: [string, RegExp][] = [
      ["<kernel>/boot/vmlinuz</kernel>", /boot file \/boot\/vmlinuz/],
      [`<initrd>${POOL}/vm-ghost-0.qcow2</initrd>`, /boot file .* berth vm volume/],
      [`<initrd>${POOL}/theirs.qcow2</initrd>`, /disk of another vm/],
      ["<loader type='rom'>/etc/shadow</loader>", /loader \/etc\/shadow/],
      ["<loader type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>", /readonly='yes'/],
      [
        "<nvram>/var/lib/libvirt/qemu/nvram/other_VARS.fd</nvram>",
        /must be \/var\/lib\/libvirt\/qemu\/nvram\/web_VARS.fd/,
      ],
      ["<nvram template='/etc/shadow'>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>", /nvram template/],
      ["<acpi><table type='slic'>/etc/shadow</table></acpi>", /ACPI table/],
      ["<smbios mode='host'/>", /smbios/],
    ];
    for (const [inner, re] of refused) {
      const found = problems(os(inner));
      expect({ inner, found }).toEqual({ inner, found: expect.arrayContaining([expect.stringMatching(re)]) });
    }
  });

  test("every problem is listed once", () => {
    const found = problems(
      dom(
        disk(`<source dev='/dev/sda'/>`, "", "block") + disk(`<source dev='/dev/sda'/>`, "", "block"),
        "",
        "xen",
      ),
    );
    expect(found).toEqual([
      "domain type xen is not allowed here: use qemu",
      "disk type block is not allowed: only files of berth's pool (type='file')",
      "host path /dev/sda (domain/devices/disk/source@dev) is not allowed",
    ]);
  });
});
