// Pure checks of domain XML a user hands berth: its head (name, uuid, type), the allowlist, and berth's rewrite of its disks.
import { dirname } from "node:path";
import { attrOf, fromXml, isNode, listOf, textOf, toXml, type XmlNode } from "./codec.ts";
import { type AllowContext, absolutePath, allowlistRefusals } from "./domain-allowlist.ts";

export interface DomainHead {
  name: string;
  /** As written; compare with `sameUuid`. */
  uuid: string | null;
  type: string | null;
}

/** Thrown for XML that is not one readable `<domain>` document; berth answers 400 invalid_xml. */
export class UnreadableDomainXml extends Error {
  override name = "UnreadableDomainXml";
}

/**
 * Parses a user's domain XML to its `<domain>` element. A DOCTYPE is refused: its entities are the one
 * place where this parser and libvirt's could read the same text differently.
 */
function parseDomain(xml: string): XmlNode {
  if (/<!DOCTYPE/i.test(xml))
    throw new UnreadableDomainXml("DOCTYPE declarations and entities are not accepted");
  let tree: XmlNode;
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
  if (!textOf(dom.name)) throw new UnreadableDomainXml("<domain> has no <name>");
  if (Array.isArray(dom.uuid)) throw new UnreadableDomainXml("<domain> has more than one <uuid>");
  return dom;
}

/** Reads the head of a user's domain XML. */
export function readDomainHead(xml: string): DomainHead {
  const dom = parseDomain(xml);
  return { name: textOf(dom.name) as string, uuid: textOf(dom.uuid), type: attrOf(dom, "type") };
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

/** What berth knows of a volume a disk may name: the format it records, and what it backs onto. */
export interface DiskVolume {
  format: "qcow2" | "raw";
  /** The image an overlay reads unchanged blocks from (berth's record); null for a standalone volume. */
  backing: { path: string; format: "qcow2" | "raw" } | null;
  /** Images: only read-only or as a cdrom. */
  readOnly: boolean;
}

/** What a domain on this host may use; berth fills it from its config and records. */
export interface DomainPolicy {
  /** Allowed values of `<domain type>`. */
  types: readonly string[];
  /** The VM's name (its NVRAM file is named after it). */
  name: string;
  consoleDir: string;
  /** berth's networks: the only ones an interface may join. */
  networks: ReadonlySet<string>;
  /** The host's default emulators. */
  emulators: ReadonlySet<string>;
  /** Graphics need a password (auth is on). */
  graphicsPassword: boolean;
  /** The volumes the XML's disks name, by path: what berth records of each, or why it may not be used. */
  volumes: ReadonlyMap<string, DiskVolume | string>;
  /** Kernel and initrd files of ready images (and of this VM's network install). */
  bootFiles: ReadonlySet<string>;
  /** Console logs of other VMs. */
  otherLogs: ReadonlySet<string>;
  /** Resolves symbolic links of an existing path (identity for paths that do not exist). */
  realpath?: (path: string) => string;
}

const NVRAM_DIR = "/var/lib/libvirt/qemu/nvram";

/** Every `<disk>` element of a parsed domain. */
function disksOf(dom: XmlNode): XmlNode[] {
  const devices = listOf(dom.devices).filter(isNode);
  return devices.flatMap((d) => listOf(d.disk).map((x) => (isNode(x) ? x : {})));
}

/** The source files the XML's disks name (berth looks each up before checking the document). */
export function diskSources(xml: string): string[] {
  return disksOf(parseDomain(xml))
    .map((d) => attrOf(d.source, "file"))
    .filter((p): p is string => p !== null);
}

type Chain = { path: string; format: string | null }[];

/** A disk's `<backingStore>` chain as written; null when it ends without an explicit `<backingStore/>`. */
function chainOf(el: unknown): Chain | null {
  const out: Chain = [];
  let at = el;
  for (;;) {
    if (at === undefined) return null;
    if (Array.isArray(at)) return null;
    const file = attrOf(isNode(at) ? at.source : undefined, "file");
    if (file === null) return out;
    out.push({ path: file, format: attrOf(isNode(at) ? at.format : undefined, "type") });
    at = isNode(at) ? at.backingStore : undefined;
  }
}

/** The chain berth writes: the image for an overlay, and an explicit end. */
function chainElement(v: DiskVolume): unknown {
  if (!v.backing) return "";
  return {
    "@type": "file",
    format: { "@type": v.backing.format },
    source: { "@file": v.backing.path },
    backingStore: "",
  };
}

const sameChain = (a: Chain, v: DiskVolume) =>
  v.backing === null
    ? a.length === 0
    : a.length === 1 && a[0]?.path === v.backing.path && a[0]?.format === v.backing.format;

function contextFor(p: DomainPolicy, canonical: boolean): AllowContext {
  const real = p.realpath ?? ((x: string) => x);
  return {
    types: p.types,
    networks: p.networks,
    emulators: p.emulators,
    graphicsPassword: p.graphicsPassword,
    nvram: `${NVRAM_DIR}/${p.name}_VARS.fd`,
    bootFile: (v) =>
      absolutePath(v) && p.bootFiles.has(v) && real(v) === v
        ? null
        : `${v} is not a kernel or initrd of a ready image`,
    consoleLog: (v) =>
      absolutePath(v) &&
      dirname(v) === p.consoleDir &&
      dirname(real(v)) === real(p.consoleDir) &&
      v.endsWith(".log") &&
      !p.otherLogs.has(v)
        ? null
        : `${v} must be a .log file of berth's console directory ${p.consoleDir}, not another vm's`,
    disk: (el) => {
      // Other disk types are refused by the table already.
      const type = attrOf(el, "type");
      if (type !== null && type !== "file") return null;
      const path = attrOf(el.source, "file");
      if (path === null) {
        return attrOf(el, "device") === "cdrom" && el.backingStore === undefined
          ? null
          : "needs <source file=…> naming a volume of berth's pool";
      }
      if (!absolutePath(path)) return `source ${path} is not an absolute path`;
      const v = p.volumes.get(path);
      if (v === undefined) return `${path} is not a volume of berth's pool that this vm may use`;
      if (typeof v === "string") return v;
      const driver = attrOf(el.driver, "type");
      if (driver !== null && driver !== v.format)
        return `driver type ${driver} is not berth's record of ${path} (${v.format}): leave it out or write ${v.format}`;
      if (v.readOnly && attrOf(el, "device") !== "cdrom" && !("readonly" in el))
        return `${path} is an image: attach it read-only (<readonly/>) or as a cdrom`;
      const chain = el.backingStore === undefined ? null : chainOf(el.backingStore);
      if (el.backingStore !== undefined && (chain === null || !sameChain(chain, v)))
        return `the backingStore of ${path} is not berth's (${v.backing ? `image ${v.backing.path}, then <backingStore/>` : "<backingStore/>"}): leave it out`;
      if (canonical && chain === null) return `libvirt left the backing chain of ${path} open`;
      return null;
    },
  };
}

/** Gives each disk berth's format and backing chain, so nothing in a volume's header opens another file. */
function rewriteDisks(dom: XmlNode, p: DomainPolicy): void {
  for (const d of disksOf(dom)) {
    const path = attrOf(d.source, "file");
    const v = path === null ? undefined : p.volumes.get(path);
    if (v === undefined || typeof v === "string") continue;
    d.driver = { ...(isNode(d.driver) ? d.driver : {}), "@name": "qemu", "@type": v.format };
    d.backingStore = chainElement(v);
  }
}

export interface CheckedDomain {
  /** Everything the allowlist refuses, each naming its element or attribute; empty when allowed. */
  problems: string[];
  /** The document berth defines: the user's, with each disk's format and backing chain written by berth. */
  xml: string;
}

/**
 * Runs the allowlist on a user's domain XML and gives the document to define. With `canonical`
 * (libvirt's own reading after the define) every disk's backing chain must also be explicit.
 */
export function checkUserDomain(xml: string, p: DomainPolicy, canonical = false): CheckedDomain {
  const dom = parseDomain(xml);
  const problems = [...new Set(allowlistRefusals(dom, contextFor(p, canonical)).map((r) => r.message))];
  if (problems.length > 0) return { problems, xml };
  rewriteDisks(dom, p);
  return { problems, xml: toXml({ domain: dom }) };
}

/** The default emulator of each guest arch in libvirt's capabilities XML. */
export function hostEmulators(capabilitiesXml: string): string[] {
  const caps = fromXml(capabilitiesXml, ["guest"]).capabilities;
  const out = new Set<string>();
  for (const g of listOf(isNode(caps) ? caps.guest : undefined)) {
    for (const a of listOf(isNode(g) ? g.arch : undefined)) {
      const e = textOf(isNode(a) ? a.emulator : undefined)?.trim();
      if (e) out.add(e);
    }
  }
  return [...out];
}
