// What a user's domain XML may reach on this host, from berth's config and records, and the 400s when it reaches further.
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { listImages } from "../../db/images.ts";
import { listNetworkRows } from "../../db/networks.ts";
import { devicesByVm, listVms } from "../../db/vms.ts";
import { AppError, HypervisorUnavailable } from "../../errors.ts";
import { log } from "../../log.ts";
import { type DomainFacts, readDomainXml } from "../../xml/domain-read.ts";
import {
  type DomainHead,
  type DomainPolicy,
  domainPolicyProblems,
  readDomainHead,
  UnreadableDomainXml,
} from "../../xml/user-domain.ts";
import type { Core } from "../context.ts";
import { consoleDir, poolDir } from "../paths.ts";
import { consoleLogOf } from "./domain-xml.ts";

/** Largest XML document accepted (libvirt's own definitions are a few KiB). */
export const MAX_XML_BYTES = 1024 * 1024;

export function invalidXml(message: string, cause?: unknown): AppError {
  return new AppError(400, "invalid_xml", message, cause === undefined ? {} : { cause });
}

/** The head of a user's domain XML, or 400 invalid_xml saying why it is not one. */
export function readHead(xml: string): DomainHead {
  try {
    return readDomainHead(xml);
  } catch (e) {
    if (e instanceof UnreadableDomainXml) throw invalidXml(e.message, e);
    throw e;
  }
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

const realpath = (p: string) => (existsSync(p) ? realpathSync(p) : p);

/** The policy for VM `name` (id `vmId`): its own disks are allowed, other VMs' are not. */
export function policyFor(core: Core, name: string, vmId: string): DomainPolicy {
  const pool = poolDir(core.config);
  const images = new Map<string, string>();
  for (const img of listImages(core.db, { status: "ready" })) {
    if (img.volume) images.set(join(pool, img.volume), img.name);
    if (img.initrd_volume) images.set(join(pool, img.initrd_volume), img.name);
  }
  const ownDisks = new Set<string>();
  const otherDisks = new Set<string>();
  for (const [id, disks] of devicesByVm(core.db).disks) {
    for (const d of disks) (id === vmId ? ownDisks : otherDisks).add(d.path);
  }
  return {
    types: allowedTypes(core),
    name,
    poolDir: pool,
    consoleDir: consoleDir(core.config),
    networks: new Set(listNetworkRows(core.db).map((n) => n.name)),
    images,
    ownDisks,
    otherDisks,
    otherLogs: new Set(
      listVms(core.db)
        .filter((v) => v.id !== vmId)
        .map((v) => consoleLogOf(core, v.id)),
    ),
    realpath,
  };
}

/** 400 xml_not_allowed listing everything the XML reaches that a guest here may not. */
export function enforcePolicy(xml: string, policy: DomainPolicy): void {
  let problems: string[];
  try {
    problems = domainPolicyProblems(xml, policy);
  } catch (e) {
    if (e instanceof UnreadableDomainXml) throw invalidXml(e.message, e);
    throw e;
  }
  if (problems.length > 0) {
    throw new AppError(400, "xml_not_allowed", `the domain XML is not allowed here: ${problems.join("; ")}`, {
      details: { problems },
    });
  }
}
