// What a user's domain XML may reach on this host, from berth's config and records, and the 400s when it reaches further.
import { join } from "node:path";
import { listImages } from "../../db/images.ts";
import { listNetworkRows } from "../../db/networks.ts";
import { listVms } from "../../db/vms.ts";
import { AppError, HypervisorUnavailable } from "../../errors.ts";
import { log } from "../../log.ts";
import { type DomainFacts, readDomainXml } from "../../xml/domain-read.ts";
import {
  checkUserDomain,
  type DomainHead,
  type DomainPolicy,
  diskSources,
  hostEmulators,
  readDomainHead,
  UnreadableDomainXml,
} from "../../xml/user-domain.ts";
import type { Core } from "../context.ts";
import { consoleDir, poolDir } from "../paths.ts";
import { consoleLogOf } from "./domain-xml.ts";
import { installVolumes } from "./install-boot.ts";
import { diskVolumes, realpath } from "./xml-volumes.ts";

/**
 * Largest XML document accepted (libvirt's own definitions are a few KiB): half of [limits] max_body_bytes'
 * default, so the document still fits its JSON body once its quotes are escaped.
 */
export const MAX_XML_BYTES = 512 * 1024;

export function invalidXml(message: string, cause?: unknown): AppError {
  return new AppError(400, "invalid_xml", message, cause === undefined ? {} : { cause });
}

/** The head of a user's domain XML, or 400 invalid_xml saying why it is not one. */
export function readHead(xml: string): DomainHead {
  return readable(() => readDomainHead(xml));
}

/** The facts of the user's XML when berth's reader understands it; libvirt's reading is what gets recorded. */
export function readAhead(xml: string): DomainFacts | null {
  try {
    return readDomainXml(xml);
  } catch (e) {
    // e.g. a memory unit this reader does not know: libvirt judges the XML, and its reading is checked again.
    log.debug("raw XML not read ahead of libvirt", { error: e instanceof Error ? e.message : String(e) });
    return null;
  }
}

/** The domain types a guest may have here: the configured one, and TCG (qemu) on a KVM host. */
export function allowedTypes(core: Core): string[] {
  const type = core.domainType();
  if (type === "unknown") throw new HypervisorUnavailable("the hypervisor's domain type is not known yet");
  return type === "kvm" ? ["kvm", "qemu"] : ["qemu"];
}

/** Kernel and initrd files a VM may boot: those of ready kernel images, and its own network install's. */
function bootFiles(core: Core, vmId: string): Set<string> {
  const pool = poolDir(core.config);
  const out = new Set<string>(Object.values(installVolumes(vmId)).map((v) => join(pool, v)));
  for (const img of listImages(core.db, { status: "ready", kind: "kernel" })) {
    if (img.volume) out.add(join(pool, img.volume));
    if (img.initrd_volume) out.add(join(pool, img.initrd_volume));
  }
  return out;
}

/** The policy for VM `name` (id `vmId`) and the disks `xml` names: its own disks are allowed, other VMs' are not. */
export async function policyFor(core: Core, name: string, vmId: string, xml: string): Promise<DomainPolicy> {
  const sources = readable(() => diskSources(xml));
  return {
    types: allowedTypes(core),
    name,
    consoleDir: consoleDir(core.config),
    networks: new Set(listNetworkRows(core.db).map((n) => n.name)),
    emulators: new Set(hostEmulators(await core.hv.call("capabilities", {}))),
    graphicsPassword: core.config.auth.enabled,
    volumes: await diskVolumes(core, vmId, sources),
    bootFiles: bootFiles(core, vmId),
    otherLogs: new Set(
      listVms(core.db)
        .filter((v) => v.id !== vmId)
        .map((v) => consoleLogOf(core, v.id)),
    ),
    realpath,
  };
}

/** Runs `f`, turning an unreadable document into 400 invalid_xml. */
function readable<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof UnreadableDomainXml) throw invalidXml(e.message, e);
    throw e;
  }
}

/**
 * The document to define for VM `name`: the user's XML when the allowlist accepts all of it, with each
 * disk's format and backing chain written by berth; else 400 xml_not_allowed naming everything refused.
 * With `canonical` (libvirt's reading after the define) every backing chain must also be explicit.
 */
export async function allowedXml(
  core: Core,
  name: string,
  vmId: string,
  xml: string,
  canonical = false,
): Promise<string> {
  const policy = await policyFor(core, name, vmId, xml);
  const checked = readable(() => checkUserDomain(xml, policy, canonical));
  if (checked.problems.length > 0) {
    const what = canonical ? "libvirt's reading of the domain XML" : "the domain XML";
    throw new AppError(
      400,
      "xml_not_allowed",
      `${what} is not allowed here: ${checked.problems.join("; ")}`,
      {
        details: { problems: checked.problems },
      },
    );
  }
  return checked.xml;
}
