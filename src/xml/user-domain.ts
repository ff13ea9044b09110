// Pure checks of domain XML a user hands berth: its head (name, uuid, type) and what it may reach on the host.
import { basename, dirname, normalize } from "node:path";
import { ATTR, attrOf, fromXml, isNode, listOf, textOf, toXml, type XmlNode } from "./codec.ts";

type Node = XmlNode;

export interface DomainHead {
  name: string;
  /** As written; compare with `sameUuid`. */
  uuid: string | null;
  type: string | null;
  /** Every `<emulator>` anywhere in the document: libvirt runs it while defining. */
  emulators: string[];
}

/** Thrown for XML that is not one readable `<domain>` document; berth answers 400 invalid_xml. */
export class UnreadableDomainXml extends Error {
  override name = "UnreadableDomainXml";
}

/** An attribute's value; undefined when absent (optional fields of the facts read below). */
function attr(v: unknown, name: string): string | undefined {
  return attrOf(v, name) ?? undefined;
}

/** Element children as [local path name, child] pairs, repeated elements flattened. */
function children(v: unknown): [string, unknown][] {
  if (!isNode(v)) return [];
  const out: [string, unknown][] = [];
  for (const [k, c] of Object.entries(v)) {
    if (k.startsWith(ATTR) || k === "#text") continue;
    for (const one of listOf(c)) out.push([k, one]);
  }
  return out;
}

function collectEmulators(v: unknown, out: string[]): void {
  for (const [k, c] of children(v)) {
    if (k.slice(k.indexOf(":") + 1) === "emulator") out.push(textOf(c) ?? "");
    collectEmulators(c, out);
  }
}

/**
 * Reads the head of a user's domain XML. A DOCTYPE is refused: its entities are the one place
 * where this parser and libvirt's could read the same text differently.
 */
export function readDomainHead(xml: string): DomainHead {
  if (/<!DOCTYPE/i.test(xml))
    throw new UnreadableDomainXml("DOCTYPE declarations and entities are not accepted");
  let tree: Node;
  try {
    tree = fromXml(xml);
  } catch (e) {
    throw new UnreadableDomainXml(`not well-formed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  const roots = Object.keys(tree).filter((k) => !k.startsWith("?"));
  if (roots.length !== 1 || roots[0] !== "domain") {
    throw new UnreadableDomainXml(
      `the document's root element must be <domain> (got ${roots.length === 0 ? "none" : roots.map((r) => `<${r}>`).join(", ")})`,
    );
  }
  const dom = tree.domain;
  if (!isNode(dom)) throw new UnreadableDomainXml("<domain> must be a single element with a <name>");
  if (Array.isArray(dom.name)) throw new UnreadableDomainXml("<domain> has more than one <name>");
  const name = textOf(dom.name);
  if (!name) throw new UnreadableDomainXml("<domain> has no <name>");
  if (Array.isArray(dom.uuid)) throw new UnreadableDomainXml("<domain> has more than one <uuid>");
  const emulators: string[] = [];
  collectEmulators(dom, emulators);
  return { name, uuid: textOf(dom.uuid), type: attr(dom, "type") ?? null, emulators };
}

/** libvirt accepts UUIDs in any case, with or without dashes: compare their 32 hex digits. */
export function sameUuid(a: string, b: string): boolean {
  const hex = (s: string) => s.toLowerCase().replace(/[\s-]/g, "");
  return /^[0-9a-f]{32}$/.test(hex(a)) && hex(a) === hex(b);
}

/** The element berth stores in the domain's metadata (virDomainSetMetadata adds the namespace). */
export function berthMetadataXml(id: string, instance?: string): string {
  return toXml({ vm: { "@id": id, ...(instance ? { "@instance": instance } : {}) } }).trim();
}

/** What a domain on this host may use; berth fills it from its config and records. */
export interface DomainPolicy {
  /** Allowed values of `<domain type>`. */
  types: readonly string[];
  /** The VM's name (its NVRAM file is named after it). */
  name: string;
  poolDir: string;
  consoleDir: string;
  /** berth's networks: the only ones an interface may join. */
  networks: ReadonlySet<string>;
  /** Files of ready images in the pool, by path: usable read-only. */
  images: ReadonlyMap<string, string>;
  /** Disk paths recorded for this VM. */
  ownDisks: ReadonlySet<string>;
  /** Disk paths recorded for other VMs. */
  otherDisks: ReadonlySet<string>;
  /** Console logs of other VMs. */
  otherLogs: ReadonlySet<string>;
  /** Resolves symbolic links of an existing path (identity for paths that do not exist). */
  realpath?: (path: string) => string;
}

export const EMULATOR_RE = /^\/usr\/(bin|libexec)\/(qemu-system-[a-z0-9_]+|qemu-kvm)$/;
const FIRMWARE_DIRS = [
  "/usr/share/OVMF/",
  "/usr/share/ovmf/",
  "/usr/share/AAVMF/",
  "/usr/share/edk2/",
  "/usr/share/qemu/",
  "/usr/share/seabios/",
];
const NVRAM_DIR = "/var/lib/libvirt/qemu/nvram";
const RNG_DEVICES = new Set(["/dev/urandom", "/dev/random", "/dev/hwrng"]);
const CHARDEV_TYPES = new Set(["pty", "null", "vc", "spicevmc", "spiceport", "qemu-vdagent", "dbus", "unix"]);
const CHARDEVS = new Set(["serial", "parallel", "console", "channel"]);
/** Devices that hand the guest a piece of the host: PCI/USB devices, directories, shared memory, readers. */
const HOST_DEVICES = new Set(["hostdev", "filesystem", "shmem", "smartcard"]);
/** Interface children that would move it off its network's VLAN or run host scripts. */
const INTERFACE_OVERRIDES = new Set(["vlan", "virtualport", "script", "downscript", "backend"]);

interface Walk {
  p: DomainPolicy;
  problems: string[];
  real: (path: string) => string;
}

function absolute(path: string): boolean {
  return path.startsWith("/") && normalize(path) === path && !path.split("/").includes("..");
}

/** A file directly in `dir`, also once links are resolved. */
function inDir(w: Walk, path: string, dir: string): boolean {
  return absolute(path) && dirname(path) === dir && dirname(w.real(path)) === w.real(dir);
}

/** A file of the pool the guest may read: not another VM's disk, not a berth volume it does not own. */
function poolFileProblem(w: Walk, path: string, what: string): string | null {
  if (!inDir(w, path, w.p.poolDir))
    return `${what} ${path} is not a file of berth's pool directory ${w.p.poolDir}`;
  if (w.p.images.has(path)) return null;
  if (w.p.otherDisks.has(path)) return `${what} ${path} is a disk of another vm`;
  const base = basename(path);
  if (base.startsWith("vm-") && !w.p.ownDisks.has(path))
    return `${what} ${path} is named like a berth vm volume but is not one of this vm's disks`;
  if (base.startsWith("img-"))
    return `${what} ${path} is named like a berth image volume but is no ready image`;
  return null;
}

function diskProblem(w: Walk, path: string, disk: unknown): string | null {
  const problem = poolFileProblem(w, path, "disk");
  if (problem) return problem;
  const image = w.p.images.get(path);
  const readonly = attr(disk, "device") === "cdrom" || (isNode(disk) && "readonly" in disk);
  if (image !== undefined && !readonly)
    return `disk ${path} is image ${image}: attach it read-only (<readonly/>) or as a cdrom`;
  return null;
}

const firmware = (path: string) => absolute(path) && FIRMWARE_DIRS.some((d) => path.startsWith(d));

type Checker = (w: Walk, value: string, chain: unknown[]) => string | null;

/** Every place a host path may appear, and what it may be there. Any other absolute path is refused. */
const PATH_RULES: [RegExp, Checker][] = [
  [/^domain\/devices\/disk\/source@file$/, (w, v, c) => diskProblem(w, v, c.at(-2))],
  [/^domain\/devices\/disk(\/backingStore)+\/source@file$/, (w, v) => poolFileProblem(w, v, "backing file")],
  [/^domain\/os\/(kernel|initrd|dtb)#text$/, (w, v) => poolFileProblem(w, v, "boot file")],
  [/^domain\/os\/acpi\/table#text$/, (w, v) => poolFileProblem(w, v, "ACPI table")],
  [
    /^domain\/os\/loader#text$/,
    (_w, v) => (firmware(v) ? null : `loader ${v} is not a firmware file of ${FIRMWARE_DIRS.join(", ")}`),
  ],
  [
    /^domain\/os\/nvram@template$/,
    (_w, v) => (firmware(v) ? null : `nvram template ${v} is not a firmware file`),
  ],
  [
    /^domain\/os\/nvram#text$/,
    (w, v) => {
      const want = `${NVRAM_DIR}/${w.p.name}_VARS.fd`;
      return v === want ? null : `nvram ${v} must be ${want} (or left out)`;
    },
  ],
  [
    /^domain\/devices\/emulator#text$/,
    (_w, v) => (EMULATOR_RE.test(v) ? null : `emulator ${v} is not a qemu system emulator`),
  ],
  [
    /^domain\/devices\/(serial|parallel|console|channel)\/log@file$/,
    (w, v) =>
      inDir(w, v, w.p.consoleDir) && v.endsWith(".log") && !w.p.otherLogs.has(v)
        ? null
        : `console log ${v} must be a .log file of berth's console directory ${w.p.consoleDir}, not another vm's`,
  ],
  [
    /^domain\/devices\/rng\/backend#text$/,
    (_w, v) => (RNG_DEVICES.has(v) ? null : `rng device ${v} is not allowed`),
  ],
  [
    /^domain\/resource\/partition#text$/,
    (_w, v) => (v === "/machine" ? null : `resource partition ${v} is not allowed`),
  ],
];

/** Subtrees whose text is data, not paths (sysinfo entries are SMBIOS strings; fw_cfg files are still checked). */
const DATA_TEXT = /^domain\/(metadata|description|title)(\/|#|@|$)|^domain\/sysinfo\/.*#text$/;

function checkValue(w: Walk, at: string, value: string, chain: unknown[]): void {
  const rule = PATH_RULES.find(([re]) => re.test(at));
  if (rule) {
    const problem = rule[1](w, value, chain);
    if (problem) w.problems.push(problem);
    return;
  }
  if (value.startsWith("/") && !DATA_TEXT.test(at))
    w.problems.push(`host path ${value} (${at}) is not allowed`);
}

function need(w: Walk, ok: boolean, problem: string): void {
  if (!ok) w.problems.push(problem);
}

/** Rules on elements themselves: which kinds of disks, NICs, character devices… a guest may have. */
function checkElement(w: Walk, at: string, local: string, el: unknown): void {
  const type = attr(el, "type");
  if (at === "domain") {
    need(
      w,
      type !== undefined && w.p.types.includes(type),
      `domain type ${type ?? "(none)"} is not allowed here: use ${w.p.types.join(" or ")}`,
    );
  } else if (at === "domain/devices/disk") {
    need(
      w,
      type === undefined || type === "file",
      `disk type ${type} is not allowed: only files of berth's pool (type='file')`,
    );
    const device = attr(el, "device");
    need(
      w,
      device === undefined || ["disk", "cdrom", "floppy"].includes(device),
      `disk device ${device} is not allowed`,
    );
  } else if (/^domain\/devices\/disk(\/backingStore)+$/.test(at)) {
    need(w, type === undefined || type === "file", `backing store type ${type} is not allowed`);
  } else if (at === "domain/devices/interface") {
    const net = attr(isNode(el) ? el.source : undefined, "network");
    need(
      w,
      type === "network",
      `interface type ${type} is not allowed: use type='network' with a berth network`,
    );
    if (type === "network")
      need(
        w,
        net !== undefined && w.p.networks.has(net),
        `network ${net ?? "(none)"} is not a berth network`,
      );
    need(
      w,
      attr(isNode(el) ? el.source : undefined, "portgroup") === undefined,
      "interface portgroups are not allowed",
    );
    for (const [k] of children(el))
      need(w, !INTERFACE_OVERRIDES.has(k), `interface <${k}> is not allowed: the network decides`);
  } else if (at.startsWith("domain/devices/") && at.split("/").length === 3) {
    if (CHARDEVS.has(local))
      need(w, type === undefined || CHARDEV_TYPES.has(type), `${local} type ${type} is not allowed`);
    if (HOST_DEVICES.has(local))
      w.problems.push(`<${local}> is not allowed: it hands the guest part of the host`);
    if (local === "redirdev") need(w, type === "spicevmc", `redirdev type ${type} is not allowed`);
    if (local === "input")
      need(w, type !== "passthrough" && type !== "evdev", `input type ${type} is not allowed`);
    if (local === "graphics")
      need(w, type === "vnc" || type === "spice", `graphics type ${type} is not allowed`);
    if (local === "audio")
      need(w, ["none", "spice", "dbus"].includes(type ?? ""), `audio type ${type} is not allowed`);
  } else if (at === "domain/devices/tpm/backend") {
    need(w, type === "emulator", `tpm backend ${type} is not allowed`);
  } else if (at === "domain/devices/rng/backend") {
    const model = attr(el, "model");
    need(w, model === "random" || model === "builtin", `rng backend ${model} is not allowed`);
  } else if (at === "domain/os/loader" && type === "pflash") {
    need(w, attr(el, "readonly") === "yes", "a pflash loader must be readonly='yes'");
  } else if (at === "domain/os/smbios") {
    need(w, attr(el, "mode") !== "host", "smbios mode='host' is not allowed");
  }
  if (local === "seclabel") {
    const label = children(el).some(([k]) => ["label", "imagelabel", "baselabel"].includes(k));
    need(
      w,
      (type === undefined || type === "dynamic") && attr(el, "relabel") !== "no" && !label,
      "<seclabel> may only ask for libvirt's dynamic labelling",
    );
  }
}

function walk(w: Walk, el: unknown, path: string[], chain: unknown[]): void {
  const at = path.join("/");
  const local = path.at(-1) as string;
  if (at !== "domain/metadata" && !at.startsWith("domain/metadata/") && local.includes(":")) {
    w.problems.push(`<${local}> is not allowed: hypervisor passthrough (qemu:commandline, …) is refused`);
    return;
  }
  if (at.startsWith("domain/metadata/")) return;
  checkElement(w, at, local, el);
  const text = textOf(el);
  if (text !== null && text !== "") checkValue(w, `${at}#text`, text.trim(), chain);
  if (isNode(el)) {
    for (const [k, v] of Object.entries(el)) {
      if (k.startsWith(ATTR) && typeof v === "string" && !k.startsWith(`${ATTR}xmlns`))
        checkValue(w, `${at}@${k.slice(ATTR.length)}`, v, chain);
    }
  }
  for (const [k, c] of children(el)) walk(w, c, [...path, k], [...chain, c]);
}

/**
 * What in this domain XML reaches outside what berth lets a guest use; empty when nothing does.
 * Run on the user's XML before libvirt sees it, and again on libvirt's own reading of it.
 */
export function domainPolicyProblems(xml: string, p: DomainPolicy): string[] {
  const head = readDomainHead(xml);
  const w: Walk = { p, problems: [], real: p.realpath ?? ((x) => x) };
  for (const e of head.emulators) {
    if (!EMULATOR_RE.test(e.trim())) w.problems.push(`emulator ${e} is not a qemu system emulator`);
  }
  const tree = fromXml(xml);
  walk(w, tree.domain, ["domain"], [tree.domain]);
  return [...new Set(w.problems)];
}
