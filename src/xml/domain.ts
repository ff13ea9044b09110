// buildDomainXml: the pure builder of berth's libvirt domain XML (disks on virtio-scsi, virtio-blk, SATA or USB; OVS/VLAN NICs).
import { toXml } from "./codec.ts";

export const BERTH_NS = "https://berth.dev/xmlns/vm/1";
export const BERTH_NS_KEY = "berth";

export type BootSpec =
  | { kind: "disk" }
  | { kind: "kernel"; kernel: string; initrd?: string; cmdline?: string }
  | { kind: "cdrom" };

/** The buses a berth disk can sit on; scsi (one virtio-scsi controller) is the default. */
export const DISK_BUSES = ["scsi", "virtio", "sata", "usb"] as const;
export type DiskBus = (typeof DISK_BUSES)[number];

export interface DiskSpec {
  /** Host path of the volume. */
  path: string;
  /** The disk's unit within the VM (0 = sda or vda); defaults to the disk's position in the list. */
  unit?: number;
  /** Default scsi. */
  bus?: DiskBus;
  format: "qcow2" | "raw";
  device?: "disk" | "cdrom";
  readonly?: boolean;
  /** The image an overlay reads from; without it the volume stands alone. Written out, so QEMU never reads a chain from the header. */
  backing?: { path: string; format: "qcow2" | "raw" };
  /** A network disk on RBD instead of a file: `path` is then unused (libvirt 9 takes rbd pools' volumes only this way). */
  rbd?: RbdSource;
}

export interface RbdSource {
  /** `<ceph pool>/<image>` */
  name: string;
  hosts: { host: string; port: number }[];
  user: string;
  secretUuid: string;
}

export type NicSpec =
  | { kind: "network"; network: string; mac?: string }
  | { kind: "ovs"; bridge: string; vlan?: number; trunk?: number[]; mac?: string };

export interface DomainSpec {
  name: string;
  uuid?: string;
  type: "kvm" | "qemu";
  vcpus: number;
  memoryMiB: number;
  boot: BootSpec;
  /** In order: the first is sda (vda on virtio), the second sdb, …; scsi disks on the one virtio-scsi controller. */
  disks: DiskSpec[];
  nics: NicSpec[];
  /** File the serial console is logged to. */
  consoleLog?: string;
  /** berth's id for this VM, stored in the domain's metadata so berth only touches its own. */
  berthId?: string;
  /** The berth installation that made it (see instanceId); with berthId only. */
  berthInstance?: string;
  description?: string;
  /** "destroy" while an installer runs, so its closing reboot ends the install (as virt-install does). */
  onReboot?: "restart" | "destroy";
}

/** a, b, … z, aa, … — the letters of a target name for an index. */
function letters(index: number): string {
  let n = index;
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

/** sda, sdb, … sdz, sdaa, … — the names the guest's SCSI disks get in order. */
export function scsiTarget(index: number): string {
  return `sd${letters(index)}`;
}

/** A disk's target: vdX on virtio-blk, sdX on the others; the letter is the disk's unit, so no two disks of a VM share one. */
export function diskTarget(bus: DiskBus, unit: number): string {
  return bus === "virtio" ? `vd${letters(unit)}` : scsiTarget(unit);
}

function os(spec: DomainSpec): Record<string, unknown> {
  const o: Record<string, unknown> = { type: { "@arch": "x86_64", "@machine": "pc", "#text": "hvm" } };
  if (spec.boot.kind === "kernel") {
    o.kernel = spec.boot.kernel;
    if (spec.boot.initrd) o.initrd = spec.boot.initrd;
    if (spec.boot.cmdline) o.cmdline = spec.boot.cmdline;
  } else {
    o.boot = { "@dev": spec.boot.kind === "cdrom" ? "cdrom" : "hd" };
  }
  return o;
}

export function diskElement(d: DiskSpec, position: number): Record<string, unknown> {
  const index = d.unit ?? position;
  const bus = d.bus ?? "scsi";
  if (d.rbd) return rbdDiskElement(d, d.rbd, index, bus);
  const el: Record<string, unknown> = {
    "@type": "file",
    "@device": d.device ?? "disk",
    driver: { "@name": "qemu", "@type": d.format },
    source: { "@file": d.path },
    // The chain is explicit: an image, then nothing; or nothing. A header's own backing or data file is never followed.
    backingStore: d.backing
      ? {
          "@type": "file",
          format: { "@type": d.backing.format },
          source: { "@file": d.backing.path },
          backingStore: "",
        }
      : "",
    target: { "@dev": diskTarget(bus, index), "@bus": bus },
  };
  // A fixed SCSI unit per position keeps sda, sdb, … stable across hot-plug and restarts; libvirt places
  // SATA disks by their target (port = index % 6) and virtio/USB disks on free PCI slots and USB ports.
  if (bus === "scsi")
    el.address = { "@type": "drive", "@controller": 0, "@bus": 0, "@target": 0, "@unit": index };
  if (d.readonly || d.device === "cdrom") el.readonly = "";
  return el;
}

/** A raw RBD image as a network disk with its cephx secret's UUID (the key itself stays in libvirt); scsi keeps its fixed unit. */
function rbdDiskElement(d: DiskSpec, src: RbdSource, index: number, bus: DiskBus): Record<string, unknown> {
  const el: Record<string, unknown> = {
    "@type": "network",
    "@device": "disk",
    driver: { "@name": "qemu", "@type": "raw", "@cache": "writeback", "@discard": "unmap" },
    auth: { "@username": src.user, secret: { "@type": "ceph", "@uuid": src.secretUuid } },
    source: {
      "@protocol": "rbd",
      "@name": src.name,
      host: src.hosts.map((h) => ({ "@name": h.host, "@port": h.port })),
    },
    target: { "@dev": diskTarget(bus, index), "@bus": bus },
  };
  if (bus === "scsi")
    el.address = { "@type": "drive", "@controller": 0, "@bus": 0, "@target": 0, "@unit": index };
  if (d.readonly) el.readonly = "";
  return el;
}

/** The `<disk>` of a device to hot-plug at `index` (sda = 0) on its bus (never sata: AHCI does not hot-plug). */
export function buildDiskDeviceXml(d: DiskSpec, index: number): string {
  return toXml({ disk: diskElement(d, index) });
}

export function nicElement(n: NicSpec): Record<string, unknown> {
  const mac = n.mac ? { mac: { "@address": n.mac } } : {};
  if (n.kind === "network") {
    return { "@type": "network", ...mac, source: { "@network": n.network }, model: { "@type": "virtio" } };
  }
  const el: Record<string, unknown> = {
    "@type": "bridge",
    ...mac,
    source: { "@bridge": n.bridge },
    virtualport: { "@type": "openvswitch" },
    model: { "@type": "virtio" },
  };
  if (n.trunk?.length) el.vlan = { "@trunk": "yes", tag: n.trunk.map((id) => ({ "@id": id })) };
  else if (n.vlan !== undefined) el.vlan = { tag: { "@id": n.vlan } };
  return el;
}

/** virtio-scsi always; an xHCI USB controller always, so a USB disk can be hot-plugged; AHCI when a disk is on SATA. */
function controllers(disks: DiskSpec[]): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [
    { "@type": "scsi", "@index": 0, "@model": "virtio-scsi" },
    // 15 ports (xHCI's most): room for a USB disk on every unit a VM can have.
    { "@type": "usb", "@index": 0, "@model": "qemu-xhci", "@ports": 15 },
  ];
  if (disks.some((d) => d.bus === "sata")) list.push({ "@type": "sata", "@index": 0 });
  return list;
}

export function buildDomainXml(spec: DomainSpec): string {
  const serial: Record<string, unknown> = { "@type": "pty", target: { "@port": 0 } };
  if (spec.consoleLog) serial.log = { "@file": spec.consoleLog, "@append": "on" };
  const domain: Record<string, unknown> = {
    "@type": spec.type,
    name: spec.name,
    ...(spec.uuid ? { uuid: spec.uuid } : {}),
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.berthId
      ? {
          metadata: {
            [`${BERTH_NS_KEY}:vm`]: {
              [`@xmlns:${BERTH_NS_KEY}`]: BERTH_NS,
              "@id": spec.berthId,
              ...(spec.berthInstance ? { "@instance": spec.berthInstance } : {}),
            },
          },
        }
      : {}),
    memory: { "@unit": "MiB", "#text": spec.memoryMiB },
    vcpu: spec.vcpus,
    os: os(spec),
    features: { acpi: "", apic: "" },
    on_poweroff: "destroy",
    on_reboot: spec.onReboot ?? "restart",
    on_crash: "destroy",
    devices: {
      controller: controllers(spec.disks),
      disk: spec.disks.map(diskElement),
      interface: spec.nics.map(nicElement),
      serial,
      console: { "@type": "pty", target: { "@type": "serial", "@port": 0 } },
    },
  };
  return toXml({ domain });
}
