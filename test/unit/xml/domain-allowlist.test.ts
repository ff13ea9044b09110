// The allowlist of user domain XML, golden: what libvirt writes for a berth VM passes; each refusal names its element or attribute.
import { describe, expect, test } from "bun:test";
import { fromXml, isNode } from "../../../src/xml/codec.ts";
import { type AllowContext, allowlistRefusals } from "../../../src/xml/domain-allowlist.ts";

const CONSOLE = "/var/lib/berth/console";
const ctx = (over: Partial<AllowContext> = {}): AllowContext => ({
  types: ["qemu"],
  networks: new Set(["lan"]),
  emulators: new Set(["/usr/bin/qemu-system-x86_64"]),
  graphicsPassword: false,
  nvram: "/var/lib/libvirt/qemu/nvram/web_VARS.fd",
  bootFile: (p) => (p === "/pool/img-k-kernel" ? null : `${p} is not a kernel or initrd of a ready image`),
  consoleLog: (p) => (p === `${CONSOLE}/web.log` ? null : `${p} is not this vm's console log`),
  // The disk rule is berth's (user-domain.ts); here every disk on /pool passes.
  disk: (el) =>
    isNode(el.source) && String(el.source["@file"]).startsWith("/pool/") ? null : "not a pool disk",
  ...over,
});

/** libvirt 9.0's inactive XML of a VM berth built (kernel boot, an overlay root, a NAT NIC), as GET ?inactive=true gives it. */
export const LIBVIRT_BERTH_VM = `<domain type='qemu'>
  <name>web</name>
  <uuid>1fadf853-6b9c-418c-ace2-372b5096c4ac</uuid>
  <metadata>
    <berth:vm xmlns:berth="https://berth.dev/xmlns/vm/1" id="6ba9f719" instance="d359a61f"/>
  </metadata>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>/pool/img-k-kernel</kernel>
    <cmdline>console=ttyS0</cmdline>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/pool/vm-1-0.qcow2'/>
      <backingStore type='file'>
        <format type='qcow2'/>
        <source file='/pool/img-1.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='sda' bus='scsi'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </controller>
    <controller type='usb' index='0' model='piix3-uhci'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>
    </controller>
    <controller type='pci' index='0' model='pci-root'/>
    <interface type='network'>
      <mac address='52:54:00:53:ea:e4'/>
      <source network='lan'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </interface>
    <serial type='pty'>
      <log file='${CONSOLE}/web.log' append='on'/>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='pty'>
      <log file='${CONSOLE}/web.log' append='on'/>
      <target type='serial' port='0'/>
    </console>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <audio id='1' type='none'/>
    <video>
      <model type='cirrus' vram='16384' heads='1' primary='yes'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </video>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </memballoon>
  </devices>
</domain>`;

const refusals = (xml: string, c = ctx()) => allowlistRefusals(fromXml(xml).domain, c).map((r) => r.message);
/** The berth VM with `fragment` put before `before`. */
const withFragment = (fragment: string, before: string) => {
  expect(LIBVIRT_BERTH_VM).toContain(before);
  return LIBVIRT_BERTH_VM.replace(before, `${fragment}${before}`);
};

test("libvirt's own definition of a berth VM passes as it is", () => {
  expect(refusals(LIBVIRT_BERTH_VM)).toEqual([]);
});

describe("refused, each naming its element or attribute (golden)", () => {
  const cases: [string, string, string, string[]][] = [
    [
      "fw_cfg entries (host files, relative too)",
      "<sysinfo type='fwcfg'><entry name='opt/x' file='tmp/cidata.iso'/></sysinfo>",
      "<os>",
      [
        "<domain/sysinfo/entry> is not allowed",
        "domain/sysinfo@type: type fwcfg: only smbios strings (fw_cfg reads host files)",
      ],
    ],
    [
      "a serial port on a host unix socket",
      "<serial type='unix'><source mode='connect' path='tmp/x.sock'/></serial>",
      "</devices>",
      [
        "<domain/devices/serial/source> is not allowed",
        "domain/devices/serial@type: type unix: character devices are type='pty' only",
      ],
    ],
    [
      "a guest agent channel on a unix socket",
      "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
      "</devices>",
      ["domain/devices/channel@type: type unix: character devices are type='pty' only"],
    ],
    [
      "real-time vcpu scheduling",
      "<cputune><vcpusched vcpus='0' scheduler='fifo' priority='99'/></cputune>",
      "<os>",
      ["<domain/cputune> is not allowed"],
    ],
    [
      "locked memory",
      "<memoryBacking><locked/></memoryBacking>",
      "<os>",
      ["<domain/memoryBacking> is not allowed"],
    ],
    [
      "hugepages",
      "<memoryBacking><hugepages/></memoryBacking>",
      "<os>",
      ["<domain/memoryBacking> is not allowed"],
    ],
    [
      "host NUMA binding",
      "<numatune><memory nodeset='0'/></numatune>",
      "<os>",
      ["<domain/numatune> is not allowed"],
    ],
    [
      "VNC on every address",
      "<graphics type='vnc' listen='0.0.0.0'><listen type='address' address='0.0.0.0'/></graphics>",
      "</devices>",
      [
        "domain/devices/graphics/listen@address: 0.0.0.0 is not a loopback address: graphics listen on loopback only",
        "domain/devices/graphics@listen: 0.0.0.0 is not a loopback address: graphics listen on loopback only",
      ],
    ],
    [
      "graphics without an explicit listen (qemu.conf decides)",
      "<graphics type='spice'/>",
      "</devices>",
      ["<domain/devices/graphics> needs listen='127.0.0.1' (or ::1): graphics listen on loopback only"],
    ],
    [
      "graphics on a host socket",
      "<graphics type='vnc'><listen type='socket' socket='/tmp/vnc.sock'/></graphics>",
      "</devices>",
      [
        "domain/devices/graphics/listen@type: listen type socket: only a loopback address or none",
        "domain/devices/graphics/listen@socket is not allowed",
        "<domain/devices/graphics> needs listen='127.0.0.1' (or ::1): graphics listen on loopback only",
      ],
    ],
    [
      "qemu:commandline",
      "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-S'/></qemu:commandline>",
      "</domain>",
      ["<domain/qemu:commandline> is not allowed"],
    ],
    [
      "hostdev",
      "<hostdev mode='subsystem' type='pci'><source><address bus='0x01'/></source></hostdev>",
      "</devices>",
      ["<domain/devices/hostdev> is not allowed"],
    ],
    [
      "filesystem passthrough",
      "<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>",
      "</devices>",
      ["<domain/devices/filesystem> is not allowed"],
    ],
    [
      "another emulator",
      "<emulator>/bin/sh</emulator>",
      "</devices>",
      ["<domain/devices/emulator> emulator /bin/sh is not the host's default (/usr/bin/qemu-system-x86_64)"],
    ],
    [
      "an interface off berth's networks",
      "<interface type='bridge'><source bridge='br0'/><virtualport type='openvswitch'/></interface>",
      "</devices>",
      [
        "domain/devices/interface/source@bridge is not allowed",
        "<domain/devices/interface/virtualport> is not allowed",
        "domain/devices/interface@type: type bridge: use type='network' with a berth network",
      ],
    ],
    [
      "a host tap by name",
      "<interface type='network'><source network='lan'/><target dev='eth0' managed='no'/></interface>",
      "</devices>",
      [
        "domain/devices/interface/target@dev: eth0 is not allowed",
        "domain/devices/interface/target@managed is not allowed",
      ],
    ],
    [
      "a ROM file from the host",
      "<interface type='network'><source network='lan'/><rom file='/etc/shadow'/></interface>",
      "</devices>",
      ["domain/devices/interface/rom@file is not allowed"],
    ],
    [
      "a watchdog that dumps on the host",
      "<watchdog model='i6300esb' action='dump'/>",
      "</devices>",
      ["domain/devices/watchdog@action: action dump is not allowed (no host dumps)"],
    ],
    [
      "audio into a host file",
      "<audio id='2' type='file' path='/tmp/a.wav'/>",
      "</devices>",
      [
        "domain/devices/audio@type: audio type file: only none or spice",
        "domain/devices/audio@path is not allowed",
      ],
    ],
    [
      "a console log elsewhere",
      "<serial type='pty'><log file='tmp/x.log'/></serial>",
      "</devices>",
      ["domain/devices/serial/log@file: tmp/x.log is not this vm's console log"],
    ],
    [
      "a boot file outside the images",
      "<initrd>boot/initrd</initrd>",
      "<cmdline>",
      ["<domain/os/initrd> boot/initrd is not a kernel or initrd of a ready image"],
    ],
    [
      "firmware from anywhere",
      "<loader type='rom'>/etc/shadow</loader>",
      "<cmdline>",
      [
        "<domain/os/loader> /etc/shadow is not a firmware file of " +
          "/usr/share/OVMF/, /usr/share/ovmf/, /usr/share/AAVMF/, /usr/share/edk2/, /usr/share/qemu/, /usr/share/seabios/",
      ],
    ],
    [
      "a timezone (a file name for the C library)",
      "<clock offset='timezone' timezone='../../tmp/tz'/>",
      "<on_poweroff>",
      [
        "domain/clock@offset: timezone is not one of utc, localtime, variable",
        "domain/clock@timezone is not allowed",
      ],
    ],
    [
      "a seclabel that turns labelling off",
      "<seclabel type='none'/>",
      "</domain>",
      ["domain/seclabel@type: none is not one of dynamic"],
    ],
  ];
  for (const [what, fragment, before, want] of cases) {
    test(what, () => {
      expect(refusals(withFragment(fragment, before))).toEqual(want);
    });
  }

  test("on_crash coredump and dumpCore, vcpu pinning, a fifth word in <os><type>", () => {
    const xml = LIBVIRT_BERTH_VM.replace(
      "<on_crash>destroy</on_crash>",
      "<on_crash>coredump-destroy</on_crash>",
    )
      .replace("<memory unit='KiB'>", "<memory unit='KiB' dumpCore='on'>")
      .replace("<vcpu placement='static'>", "<vcpu placement='static' cpuset='0-1'>")
      .replace(">hvm</type>", ">xen</type>");
    expect(refusals(xml)).toEqual([
      "domain/memory@dumpCore is not allowed",
      "domain/vcpu@cpuset is not allowed",
      "<domain/os/type> xen is not one of hvm",
      "<domain/on_crash> coredump-destroy is not allowed: a crash may destroy, restart or preserve the guest (no host core dumps)",
    ]);
  });

  test("a domain type berth does not run, and text where none belongs", () => {
    const xml = LIBVIRT_BERTH_VM.replace("<domain type='qemu'>", "<domain type='kvm'>").replace(
      "<acpi/>",
      "<acpi>on</acpi>",
    );
    expect(refusals(xml)).toEqual([
      "text in <domain/features/acpi> is not allowed",
      "domain@type: domain type kvm is not allowed here: use qemu",
    ]);
    expect(refusals(xml.replace("<acpi>on</acpi>", "<acpi/>"), ctx({ types: ["kvm", "qemu"] }))).toEqual([]);
  });

  test("with auth on, graphics need a password", () => {
    const c = ctx({ graphicsPassword: true });
    expect(refusals(LIBVIRT_BERTH_VM, c)).toEqual([
      "<domain/devices/graphics> needs a passwd: with auth on, a console is never open to whoever reaches the port",
    ]);
    expect(
      refusals(LIBVIRT_BERTH_VM.replace("listen='127.0.0.1'>", "listen='127.0.0.1' passwd='s3cret'>"), c),
    ).toEqual([]);
  });

  test("metadata is the user's own data and is never read", () => {
    const xml = LIBVIRT_BERTH_VM.replace(
      "</metadata>",
      "<x:y xmlns:x='u' file='tmp/z'><x:z/></x:y></metadata>",
    );
    expect(refusals(xml)).toEqual([]);
  });
});
