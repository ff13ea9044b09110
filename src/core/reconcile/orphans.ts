// berth-marked domains with no vms row: reported, adopted into a row, or removed, per reconcile.orphans.
import {
  type AdoptedVm,
  insertAdoptedVm,
  networkForBridge,
  reconcileVmById,
  vmIdOrNameTaken,
  volumeInUse,
} from "../../db/reconcile.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { log } from "../../log.ts";
import type { DiskBus } from "../../xml/domain.ts";
import { type DomainFacts, readDomainXml } from "../../xml/domain-read.ts";
import type { Core } from "../context.ts";
import type { EventBus } from "../events.ts";
import type { ScannedDomain } from "../hypervisor/ops/domain-scan.ts";
import type { VolumeSummary } from "../hypervisor/ops/storage-ops.ts";
import { isName } from "../names.ts";
import { isLibvirt } from "../storage-pool.ts";
import { now } from "../time.ts";
import { removeDomain } from "../vms/domain.ts";
import { vmTarget } from "../vms/records.ts";
import { deleteVolume } from "../vms/volumes.ts";
import { recordedBus, targetIndex } from "../vms/xml-records.ts";
import type { PassContext } from "./rows.ts";
import { statusForState } from "./status.ts";
import { asOperation, domainHasBerthId } from "./steps.ts";

/** Orphans already announced by this process: reported each pass, but logged and published once. */
const announced = new WeakMap<EventBus, Set<string>>();

const domainTarget = (name: string) => `domain/${name}`;

/** Volumes of berth's pool by path; an absent pool has none. */
async function poolVolumes(core: Core): Promise<Map<string, VolumeSummary>> {
  try {
    const vols = await core.hv.call("volume.list", { pool: core.config.storage.pool });
    return new Map(vols.map((v) => [v.path, v]));
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_STORAGE_POOL)) return new Map();
    throw e;
  }
}

function reportOrphan(p: PassContext, id: string, dom: ScannedDomain): void {
  const seen = announced.get(p.core.events) ?? new Set<string>();
  announced.set(p.core.events, seen);
  if (!seen.has(id)) {
    seen.add(id);
    log.warn("reconcile: berth-marked domain has no vm row", { domain: dom.name, id });
    p.core.events.publish("vm.orphan", domainTarget(dom.name), { id, uuid: dom.uuid, action: "reported" });
  }
  p.report.orphans.push({ id, domain: dom.name, action: "reported" });
}

/** The row an adopted domain gets: what its XML says, disks that are volumes of berth's pool, known networks. */
export function adoptedRow(
  core: Core,
  id: string,
  dom: ScannedDomain,
  facts: DomainFacts,
  vols: Map<string, VolumeSummary>,
  at: string,
): { vm: AdoptedVm; left: string[] } {
  const left: string[] = [];
  const inPool = facts.disks.filter((d) => {
    if (!vols.has(d.path)) {
      left.push(`disk ${d.target || d.path} is not a volume of pool ${core.config.storage.pool}`);
      return false;
    }
    if (recordedBus(d) === null) {
      left.push(`disk ${d.target || d.path} is on bus ${d.bus || "(none)"}, which berth does not record`);
      return false;
    }
    return true;
  });
  const units = inPool.map((d, i) => targetIndex(d.target) ?? d.unit ?? i);
  const unique = new Set(units).size === units.length;
  const disks = inPool.map((d, i) => {
    const unit = unique ? (units[i] as number) : i;
    const vol = vols.get(d.path) as VolumeSummary;
    return {
      unit,
      name: unit === 0 ? "root" : d.target || `disk${unit}`,
      volume: vol.name,
      path: d.path,
      format: d.format,
      device: d.device,
      size: vol.capacity,
      bus: recordedBus(d) as DiskBus,
    };
  });
  const nics: AdoptedVm["nics"] = [];
  for (const n of facts.nics) {
    const network = n.kind === "network" ? n.network : networkForBridge(core.db, n.bridge, n.vlan);
    if (network && n.mac) nics.push({ idx: nics.length, network, mac: n.mac });
    else left.push(`nic ${n.mac ?? "without mac"} is on no berth network`);
  }
  const vm: AdoptedVm = {
    id,
    name: dom.name,
    uuid: facts.uuid ?? dom.uuid,
    status: statusForState(dom.state) ?? "stopped",
    vcpus: facts.vcpus,
    memory_mib: facts.memoryMiB,
    boot: JSON.stringify({ mode: facts.boot === "cdrom" ? "iso" : facts.boot }),
    description: facts.description,
    at,
    disks,
    nics,
  };
  return { vm, left };
}

async function adoptOrphan(p: PassContext, id: string, dom: ScannedDomain): Promise<void> {
  const { core } = p;
  if (!isName("vm", dom.name)) {
    p.report.orphans.push({ id, domain: dom.name, action: "skipped", reason: "name is not a valid vm name" });
    return;
  }
  // The id came from the mark cache: adopt only what the domain carries now.
  if (!(await domainHasBerthId(core, dom.name, id))) return;
  const facts = readDomainXml(await core.hv.call("domain.xml", { name: dom.name }));
  const { vm, left } = adoptedRow(core, id, dom, facts, await poolVolumes(core), now());
  // Re-checked after the awaits: a create or another pass may have taken the id or name meanwhile.
  if (vmIdOrNameTaken(core.db, id, dom.name) || core.locks.holder(vmTarget(dom.name))) {
    p.report.orphans.push({
      id,
      domain: dom.name,
      action: "skipped",
      reason: "a vm with this id or name exists",
    });
    return;
  }
  insertAdoptedVm(core.db, vm);
  log.warn("reconcile: adopted a berth-marked domain", { domain: dom.name, id, left });
  core.events.publish("vm.orphan", vmTarget(dom.name), { id, uuid: vm.uuid, action: "adopted", left });
  p.report.orphans.push({ id, domain: dom.name, action: "adopted", details: left });
}

async function removeOrphan(p: PassContext, id: string, dom: ScannedDomain): Promise<void> {
  const { core } = p;
  const removed = await asOperation(core, "vm.orphan.remove", vmTarget(dom.name), async () => {
    if (reconcileVmById(core.db, id) || !(await domainHasBerthId(core, dom.name, id))) return null;
    const facts = readDomainXml(await core.hv.call("domain.xml", { name: dom.name }));
    const vols = await poolVolumes(core);
    await removeDomain(core, dom.name);
    const deleted: string[] = [];
    for (const d of facts.disks) {
      const vol = vols.get(d.path);
      // Only writable disks in berth's pool that no image and no VM row refers to are the orphan's own.
      if (!vol || d.device !== "disk" || volumeInUse(core.db, vol.name)) continue;
      await deleteVolume(core, core.config.storage.pool, vol.name);
      deleted.push(vol.name);
    }
    core.events.publish("vm.orphan", domainTarget(dom.name), {
      id,
      uuid: dom.uuid,
      action: "removed",
      volumes: deleted,
    });
    return deleted;
  });
  if (removed === null) return;
  log.warn("reconcile: removed a berth-marked domain with no vm row", {
    domain: dom.name,
    id,
    volumes: removed,
  });
  p.report.orphans.push({
    id,
    domain: dom.name,
    action: "removed",
    details: removed.map((v) => `volume ${v}`),
  });
}

/** Applies reconcile.orphans to one berth-marked domain that has no row. */
export async function reconcileOrphan(p: PassContext, id: string, dom: ScannedDomain): Promise<void> {
  const holder = p.core.locks.holder(vmTarget(dom.name));
  if (holder) {
    p.report.skipped.push({ target: domainTarget(dom.name), reason: `operation ${holder} is running` });
    return;
  }
  const mode = p.core.config.reconcile.orphans;
  if (mode === "report") reportOrphan(p, id, dom);
  else if (mode === "adopt") await adoptOrphan(p, id, dom);
  else await removeOrphan(p, id, dom);
}
