// Pure readers of libvirt domain XML: berth's metadata id, and the facts reconcile needs to adopt a domain.
import { attrOf, fromXml, isNode, listOf, textOf } from "./codec.ts";

/** Text content of an element parsed with or without attributes. */
function text(v: unknown): string | null {
  return textOf(v)?.trim() ?? null;
}

/**
 * The `id` of berth's metadata element as virDomainGetMetadata returns it (`<vm id="…"/>`, with or
 * without a namespace prefix); null when it is not a berth element with an id.
 */
export function readBerthId(metadataXml: string): string | null {
  return readBerthMark(metadataXml)?.id ?? null;
}

/** The id and (when recorded) the berth installation of berth's metadata element; null when it is not one. */
export function readBerthMark(metadataXml: string): { id: string; instance: string | null } | null {
  const tree = fromXml(metadataXml);
  const roots = Object.keys(tree).filter((k) => !k.startsWith("?"));
  if (roots.length !== 1) return null;
  const root = roots[0] as string;
  if (root.slice(root.indexOf(":") + 1) !== "vm") return null;
  const id = attrOf(tree[root], "id");
  if (!id) return null;
  return { id, instance: attrOf(tree[root], "instance") || null };
}

/** libvirt's memory units (virScaleInteger): bytes per unit. KiB when no unit is given. */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1e3,
  k: 1024,
  kib: 1024,
  mb: 1e6,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1e9,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1e12,
  t: 1024 ** 4,
  tib: 1024 ** 4,
};

function memoryMiB(v: unknown): number {
  const n = Number(text(v) ?? "0");
  const unit = (attrOf(v, "unit") ?? "KiB").toLowerCase();
  const scale = UNIT_BYTES[unit];
  if (scale === undefined || !Number.isFinite(n)) throw new Error(`unknown memory size ${n} ${unit}`);
  return Math.floor((n * scale) / 1024 ** 2);
}

export interface DomainDiskFacts {
  /** Host path of a file or block disk. */
  path: string;
  format: string;
  device: "disk" | "cdrom";
  /** Guest target, e.g. "sda". */
  target: string;
  /** The target's bus as libvirt wrote it (scsi, virtio, sata, usb, ide, …); "" when absent. */
  bus: string;
  /** The drive address unit on the SCSI controller, when the XML gives one. */
  unit: number | null;
}

export type DomainNicFacts =
  | { kind: "network"; network: string; mac: string | null }
  | { kind: "bridge"; bridge: string; vlan: number | null; trunk: number[]; mac: string | null };

export interface DomainFacts {
  name: string;
  uuid: string | null;
  description: string;
  vcpus: number;
  memoryMiB: number;
  boot: "disk" | "kernel" | "cdrom";
  disks: DomainDiskFacts[];
  /** Network and bridge interfaces; other interface types are left out. */
  nics: DomainNicFacts[];
}

function disk(d: unknown): DomainDiskFacts | null {
  const device = attrOf(d, "device");
  if (device !== "disk" && device !== "cdrom") return null;
  if (!isNode(d)) return null;
  const path = attrOf(d.source, "file") ?? attrOf(d.source, "dev");
  if (!path) return null;
  const unit = attrOf(d.address, "unit");
  return {
    path,
    format: attrOf(d.driver, "type") ?? "raw",
    device,
    target: attrOf(d.target, "dev") ?? "",
    bus: attrOf(d.target, "bus") ?? "",
    unit: unit === null ? null : Number(unit),
  };
}

function nic(i: unknown): DomainNicFacts | null {
  if (!isNode(i)) return null;
  const mac = attrOf(i.mac, "address");
  const type = attrOf(i, "type");
  if (type === "network") {
    const network = attrOf(i.source, "network");
    return network ? { kind: "network", network, mac } : null;
  }
  if (type === "bridge") {
    const bridge = attrOf(i.source, "bridge");
    if (!bridge) return null;
    const vlan = isNode(i.vlan) ? i.vlan : null;
    const tags = listOf(vlan?.tag)
      .map((t) => Number(attrOf(t, "id")))
      .filter(Number.isInteger);
    const trunk = attrOf(vlan, "trunk") === "yes";
    return {
      kind: "bridge",
      bridge,
      vlan: !trunk && tags.length === 1 ? (tags[0] as number) : null,
      trunk: trunk ? tags : [],
      mac,
    };
  }
  return null;
}

/** Reads the facts berth records about a domain from its XML (virDomainGetXMLDesc). */
export function readDomainXml(xml: string): DomainFacts {
  const tree = fromXml(xml, ["disk", "interface", "tag"]);
  const dom = tree.domain;
  if (!isNode(dom)) throw new Error("not a domain XML document");
  const name = text(dom.name);
  if (!name) throw new Error("domain XML has no name");
  const os = isNode(dom.os) ? dom.os : {};
  const devices = isNode(dom.devices) ? dom.devices : {};
  const vcpu = dom.vcpu;
  return {
    name,
    uuid: text(dom.uuid),
    description: text(dom.description) ?? "",
    vcpus: Number(attrOf(vcpu, "current") ?? text(vcpu) ?? "1"),
    memoryMiB: memoryMiB(dom.memory),
    boot: text(os.kernel)
      ? "kernel"
      : listOf(os.boot).some((b) => attrOf(b, "dev") === "cdrom")
        ? "cdrom"
        : "disk",
    disks: listOf(devices.disk)
      .map(disk)
      .filter((d): d is DomainDiskFacts => d !== null),
    nics: listOf(devices.interface)
      .map(nic)
      .filter((n): n is DomainNicFacts => n !== null),
  };
}
