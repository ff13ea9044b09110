// PVC's reading of a domain XML (client-common getInformationFromXML): the fields its VM objects carried, with its names and types.
import { attrOf, fromXml, isNode, listOf, textOf, type XmlNode } from "./codec.ts";

export interface PvcDomainFacts {
  name: string;
  uuid: string;
  description: string;
  /** MiB (PVC gave an int for KiB and GiB units; libvirt's own XML is always KiB). */
  memory: number;
  vcpu: string;
  vcpu_topology: string;
  networks: { type: string; mac: string; source: string; model: string }[];
  type: string;
  arch: string;
  machine: string;
  console: string;
  emulator: string;
  features: string[];
  disks: { type: string; name: string; dev: string; bus: string }[];
  controllers: { type: string; model: string }[];
}

const MIB_PER: Record<string, number> = { kib: 1 / 1024, k: 1 / 1024, mib: 1, m: 1, gib: 1024, g: 1024 };

const text = (v: unknown): string => textOf(v)?.trim() ?? "";
const node = (v: unknown): XmlNode => (isNode(v) ? v : {});

function memory(v: unknown): number {
  const per = MIB_PER[(attrOf(v, "unit") ?? "KiB").toLowerCase()] ?? 1 / 1024 ** 2;
  return Math.floor(Number(text(v) || "0") * per);
}

function topology(cpu: unknown): string {
  const t = node(node(cpu).topology);
  const [s, c, th] = ["sockets", "cores", "threads"].map((a) => attrOf(t, a));
  return s && c && th ? `${s}/${c}/${th}` : "N/A";
}

function disk(d: unknown) {
  const source = node(d).source;
  const network = attrOf(d, "type") === "network";
  return {
    type: network ? (attrOf(source, "protocol") ?? "network") : "file",
    name: (network ? attrOf(source, "name") : (attrOf(source, "file") ?? attrOf(source, "dev"))) ?? "",
    dev: attrOf(node(d).target, "dev") ?? "",
    bus: attrOf(node(d).target, "bus") ?? "",
  };
}

/** Reads `xml` as PVC did; throws when it is not a domain document. */
export function readPvcDomain(xml: string): PvcDomainFacts {
  const dom = fromXml(xml, ["disk", "interface", "controller"]).domain;
  if (!isNode(dom)) throw new Error("not a domain XML document");
  const os = node(dom.os);
  const devices = node(dom.devices);
  return {
    name: text(dom.name),
    uuid: text(dom.uuid),
    description: text(dom.description) || "N/A",
    memory: memory(dom.memory),
    vcpu: text(dom.vcpu),
    vcpu_topology: topology(dom.cpu),
    networks: listOf(devices.interface).map((i) => ({
      type: attrOf(i, "type") ?? "",
      mac: attrOf(node(i).mac, "address") ?? "",
      source: attrOf(node(i).source, "bridge") ?? attrOf(node(i).source, "network") ?? "",
      model: attrOf(node(i).model, "type") ?? "",
    })),
    type: text(os.type),
    arch: attrOf(os.type, "arch") ?? "",
    machine: attrOf(os.type, "machine") ?? "",
    console: attrOf(listOf(devices.console)[0], "type") ?? "",
    emulator: text(devices.emulator),
    features: Object.keys(node(dom.features)).filter((k) => !k.startsWith("@") && k !== "#text"),
    disks: listOf(devices.disk).map(disk),
    controllers: listOf(devices.controller).map((c) => ({
      type: attrOf(c, "type") ?? "",
      model: attrOf(c, "model") ?? "none",
    })),
  };
}
