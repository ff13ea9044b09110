// Raw libvirt XML for VMs (what PVC users expect): define a VM from a user's domain XML, and dump a VM's XML.
import { mkdirSync } from "node:fs";
import { instanceId } from "../../db/host-meta.ts";
import {
  type DiskRow,
  deleteVm,
  insertVm,
  listVms,
  replaceDevices,
  setVmShape,
  updateVm,
  type VmRow,
  vmNameTaken,
} from "../../db/vms.ts";
import { AppError, Conflict } from "../../errors.ts";
import { DomainXmlFlags } from "../../ffi/constants.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { DEFAULT_PROJECT } from "../../patterns.ts";
import { BERTH_NS, BERTH_NS_KEY } from "../../xml/domain.ts";
import { type DomainFacts, readDomainXml } from "../../xml/domain-read.ts";
import { berthMetadataXml, type DomainHead, sameUuid } from "../../xml/user-domain.ts";
import { assertVmSecrets, type Caller, requireAdmin } from "../auth/index.ts";
import { checkVmShape } from "../capacity.ts";
import type { Core } from "../context.ts";
import { claimForCreate } from "../fleet/names.ts";
import { checkName, newId } from "../names.ts";
import type { Operation } from "../operations.ts";
import { consoleDir } from "../paths.ts";
import { forgetMarkNamed } from "../reconcile/marks.ts";
import { Reverter } from "../reverter.ts";
import { isLibvirt } from "../storage-pool.ts";
import { now } from "../time.ts";
import { forgetCreated } from "./create.ts";
import { domainState, removeDomain } from "./domain.ts";
import { recordState } from "./power.ts";
import { findVmRow, loadVm, vmTarget } from "./records.ts";
import { allowedXml, invalidXml, readAhead, readHead } from "./xml-policy.ts";
import { diskRows, nicRows } from "./xml-records.ts";

export interface DefineVmXmlRequest {
  xml: string;
  start?: boolean;
  tags?: Record<string, string>;
  description?: string;
  /** The project it belongs to; default "default". */
  project?: string;
}

/** virErrorNumber values that mean libvirt refused the XML itself (virterror.h). */
const XML_REFUSALS = new Set<number>([
  ErrorCode.INVALID_ARG,
  16, // OS_TYPE
  17, // NO_KERNEL
  18, // NO_ROOT
  19, // NO_SOURCE
  20, // NO_TARGET
  21, // NO_NAME
  22, // NO_OS
  23, // NO_DEVICE
  ErrorCode.XML_ERROR,
  ErrorCode.XML_DETAIL,
  ErrorCode.CONFIG_UNSUPPORTED,
  92, // XML_INVALID_SCHEMA
]);

/**
 * Defines `xml` with libvirt's schema validation. libvirt's refusal of the XML is the user's 400
 * (invalid_xml, with libvirt's words); a name or UUID another domain holds is a 409.
 */
export async function defineXml(core: Core, xml: string): Promise<{ name: string; uuid: string }> {
  try {
    return await core.hv.call("domain.define", { xml, validate: true });
  } catch (e) {
    const code = e instanceof AppError ? e.details?.libvirtCode : undefined;
    if (typeof code === "number" && XML_REFUSALS.has(code)) {
      throw new AppError(400, "invalid_xml", `libvirt refused the domain XML: ${(e as Error).message}`, {
        cause: e,
        details: { libvirtCode: code },
      });
    }
    if (
      code === ErrorCode.DOM_EXIST ||
      (code === ErrorCode.OPERATION_FAILED && /already (exists|defined)/.test((e as Error).message))
    ) {
      throw new Conflict((e as Error).message, { cause: e });
    }
    throw e;
  }
}

/** libvirt's own reading of the persistent definition, secrets included (a PUT of it loses nothing). */
export function inactiveXml(core: Core, name: string): Promise<string> {
  return core.hv.call("domain.xml", { name, flags: DomainXmlFlags.INACTIVE | DomainXmlFlags.SECURE });
}

/**
 * Marks the persistent definition (and with `live`, the running domain's too) as this installation's VM
 * `id`, replacing whatever the user's XML, or another host's berth, put in berth's namespace.
 */
export async function markAsBerth(core: Core, name: string, id: string, live = false): Promise<void> {
  await core.hv.call("domain.setMetadata", {
    name,
    uri: BERTH_NS,
    key: BERTH_NS_KEY,
    xml: berthMetadataXml(id, instanceId(core.db)),
    config: true,
    live,
  });
  // No lifecycle event tells reconcile's cache that the mark changed.
  forgetMarkNamed(core.hv, name);
}

/** After libvirt read the XML: the allowlist again on libvirt's own reading (explicit backing chains included), then vcpus/memory bounds. */
export async function verifyDefined(core: Core, row: VmRow, head: DomainHead): Promise<string> {
  const canonical = await inactiveXml(core, row.name);
  await allowedXml(core, row.name, row.id, canonical, true);
  const facts = readDomainXml(canonical);
  if (facts.name !== head.name) throw invalidXml(`libvirt read the name as ${facts.name}, not ${head.name}`);
  if (facts.vcpus < 1) throw invalidXml(`a vm has at least 1 vcpu (the XML asks for ${facts.vcpus})`);
  if (facts.memoryMiB < 16)
    throw invalidXml(`a vm has at least 16 MiB of memory (the XML asks for ${facts.memoryMiB})`);
  // The host's bounds: its own row (recorded ahead, or its current shape) is replaced, not added.
  const shape = { vcpus: facts.vcpus, memory_mib: facts.memoryMiB };
  await checkVmShape(core, shape, `vm ${row.name}`, row.id, invalidXml);
  return canonical;
}

/** Records vcpus, memory, disks and NICs as libvirt read them. */
export async function recordDefinition(
  core: Core,
  row: VmRow,
  canonical: string,
  existing: DiskRow[] = [],
): Promise<DomainFacts> {
  const facts = readDomainXml(canonical);
  const disks = await diskRows(core, row.id, facts, existing);
  replaceDevices(core.db, row.id, disks, nicRows(row.id, facts));
  setVmShape(core.db, row.id, facts.vcpus, facts.memoryMiB, now());
  return facts;
}

async function checkFree(core: Core, head: DomainHead): Promise<void> {
  const domains = await core.hv.call("domain.list", {});
  if (domains.some((d) => d.name === head.name)) {
    throw new Conflict(`a libvirt domain named ${head.name} already exists`);
  }
  const uuid = head.uuid;
  if (uuid === null) return;
  const holder = domains.find((d) => sameUuid(d.uuid, uuid));
  if (holder) throw new Conflict(`libvirt domain ${holder.name} already has uuid ${uuid}`);
  const row = listVms(core.db).find((v) => v.uuid !== null && sameUuid(v.uuid, uuid));
  if (row) throw new Conflict(`vm ${row.name} already has uuid ${uuid}`);
}

/**
 * POST /v1/vms with {xml}: checks everything it can up front (a 4xx defines nothing), records the
 * VM as `creating`, then defines, re-checks libvirt's reading, marks and records it as an operation.
 */
export async function defineVmFromXml(
  core: Core,
  caller: Caller | null,
  req: DefineVmXmlRequest,
): Promise<Operation> {
  requireAdmin(core, caller, "define a VM from raw libvirt XML");
  const project = checkName("project", req.project ?? DEFAULT_PROJECT);
  const head = readHead(req.xml);
  checkName("vm", head.name);
  if (vmNameTaken(core.db, head.name)) throw new Conflict(`vm ${head.name} already exists`);
  await checkFree(core, head);
  const id = newId();
  const xml = await allowedXml(core, head.name, id, req.xml);
  // In a fleet the name is claimed fleet-wide first; a refusal below gives it back.
  const release = await claimForCreate(core, head.name);
  const at = now();
  // Shown while it is created; replaced by libvirt's reading once defined.
  const ahead = readAhead(req.xml);
  const row: VmRow = {
    id,
    name: head.name,
    uuid: null,
    status: "creating",
    vcpus: ahead?.vcpus ?? 1,
    memory_mib: ahead?.memoryMiB ?? 0,
    profile: null,
    image: null,
    // "xml": the user's definition is the truth; berth never rebuilds it from its records.
    boot: JSON.stringify({ mode: "xml" }),
    description: req.description ?? "",
    tags: JSON.stringify(req.tags ?? {}),
    ssh_keys: "[]",
    created_at: at,
    started_at: null,
    stopped_at: null,
    updated_at: at,
    project,
  };
  try {
    insertVm(core.db, row, [], []);
  } catch (e) {
    await release();
    // Two defines of one name raced past the check above; the UNIQUE constraint settles it.
    if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE")
      throw new Conflict(`vm ${row.name} already exists`);
    throw e;
  }
  try {
    return core.ops.start(
      "vm.create",
      vmTarget(row.name),
      async (ctx) => {
        const r = new Reverter();
        forgetCreated(core, r, row);
        return r.run(async () => {
          mkdirSync(consoleDir(core.config), { recursive: true });
          const defined = await defineXml(core, xml);
          r.add(`remove domain ${row.name}`, () => removeDomain(core, row.name));
          ctx.progress(0.3, "defined");
          const canonical = await verifyDefined(core, row, head);
          await markAsBerth(core, row.name, row.id);
          const facts = await recordDefinition(core, row, canonical);
          updateVm(core.db, row.id, {
            uuid: defined.uuid,
            status: "stopped",
            // The XML's <description> unless the request gave one.
            description: req.description ?? facts.description,
            updated_at: now(),
          });
          ctx.progress(0.7, "recorded");
          if (req.start) {
            await core.hv.call("domain.create", { name: row.name });
            recordState(core, row.id, row.name, (await domainState(core, row.name)) ?? "shutoff");
          }
          core.events.publish("vm.created", vmTarget(row.name), {
            id: row.id,
            started: req.start ?? false,
            source: "xml",
          });
          return loadVm(core, row.name);
        });
      },
      { lock: true },
    );
  } catch (e) {
    deleteVm(core.db, row.id);
    await release();
    throw e;
  }
}

/** GET /v1/vms/{name}/xml: the live definition, or with `inactive` the persistent one. */
export async function getVmXml(
  core: Core,
  caller: Caller | null,
  name: string,
  inactive = false,
): Promise<string> {
  assertVmSecrets(core, caller, name);
  findVmRow(core, name);
  try {
    return await core.hv.call("domain.xml", {
      name,
      flags: DomainXmlFlags.SECURE | (inactive ? DomainXmlFlags.INACTIVE : 0),
    });
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_DOMAIN)) throw new Conflict(`vm ${name} has no domain in libvirt`);
    throw e;
  }
}
