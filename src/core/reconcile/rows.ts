// Reconcile rules for each vms row: vanished domain → gone, crashed create → cleaned, state → in step.

import {
  deleteVmRow,
  diskVolumesOf,
  type ReconcileVmRow,
  reconcileVmById,
  setVmStatusIfUnchanged,
} from "../../db/reconcile.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import type { DomainSummary } from "../hypervisor/ops/domain-ops.ts";
import { now } from "../time.ts";
import { removeDomain } from "../vms/domain.ts";
import { installVolumesOf } from "../vms/install-boot.ts";
import { vmTarget } from "../vms/records.ts";
import { deleteVolume, ownsVolume } from "../vms/volumes.ts";
import type { ReconcileReport } from "./report.ts";
import { SYNCED_STATUSES, statusForState } from "./status.ts";
import { asOperation, domainHasBerthId } from "./steps.ts";

export interface PassContext {
  core: Core;
  report: ReconcileReport;
  /** berth-marked domains by the berth id in their metadata. */
  domains: Map<string, DomainSummary>;
  /** When libvirt was listed: a row updated later than this knows better than the listing. */
  listedAt: string;
  /** A `creating` row older than this (ms) with nothing working on it is a crashed create. */
  staleCreateMs: number;
  /** Rows created before this process started cannot belong to a create still running. */
  bootedAt: number;
}

function isStaleCreate(p: PassContext, row: ReconcileVmRow): boolean {
  const created = Date.parse(row.created_at);
  if (!(created < p.bootedAt || Date.now() - created > p.staleCreateMs)) return false;
  return p.core.ops.list({ target: vmTarget(row.name), status: "running", limit: 1 }).length === 0;
}

/** Removes what a crashed create left: its domain (if still berth's), its own volumes, its row. */
async function cleanCreate(p: PassContext, row: ReconcileVmRow): Promise<void> {
  const { core } = p;
  const dom = p.domains.get(row.id);
  const done = await asOperation(core, "vm.cleanup", vmTarget(row.name), async () => {
    if (reconcileVmById(core.db, row.id)?.status !== "creating") return false;
    if (dom && (await domainHasBerthId(core, dom.name, row.id))) await removeDomain(core, dom.name);
    const disks = diskVolumesOf(core.db, row.id).filter((d) => ownsVolume(row.id, d));
    for (const d of disks) await deleteVolume(core, core.config.storage.pool, d.volume);
    // A network install's fetched kernel and initrd are the VM's own volumes too.
    for (const v of installVolumesOf(row)) await deleteVolume(core, core.config.storage.pool, v);
    deleteVmRow(core.db, row.id);
    core.events.publish("vm.cleaned", vmTarget(row.name), {
      id: row.id,
      volumes: disks.map((d) => d.volume),
      domain: dom?.name ?? null,
    });
    return true;
  });
  if (done) {
    log.warn("reconcile: removed a vm left creating by a crash", { name: row.name, id: row.id });
    p.report.cleaned.push(row.name);
  }
}

function markGone(p: PassContext, row: ReconcileVmRow): void {
  const at = now();
  if (!setVmStatusIfUnchanged(p.core.db, row.id, row.status, p.listedAt, "gone", at)) return;
  log.warn("reconcile: vm's domain vanished, marked gone", { name: row.name, id: row.id });
  p.core.events.publish("vm.gone", vmTarget(row.name), { id: row.id, previous: row.status });
  p.report.gone.push(row.name);
}

function syncStatus(p: PassContext, row: ReconcileVmRow, dom: DomainSummary): void {
  const to = statusForState(dom.state);
  if (to === null || to === row.status || !SYNCED_STATUSES.has(row.status)) return;
  const at = now();
  const stamps = to === "running" ? { started_at: at } : to === "stopped" ? { stopped_at: at } : {};
  if (!setVmStatusIfUnchanged(p.core.db, row.id, row.status, p.listedAt, to, at, stamps)) return;
  p.core.events.publish("vm.synced", vmTarget(row.name), {
    id: row.id,
    from: row.status,
    to,
    state: dom.state,
  });
  p.report.synced.push({ name: row.name, from: row.status, to });
}

/** Applies the rules to one row. Every database change re-checks the row, so a racing action wins. */
export async function reconcileRow(p: PassContext, row: ReconcileVmRow): Promise<void> {
  if (row.status === "gone") return;
  const holder = p.core.locks.holder(vmTarget(row.name));
  if (holder) {
    p.report.skipped.push({ target: vmTarget(row.name), reason: `operation ${holder} is running` });
    return;
  }
  if (row.status === "creating") {
    if (isStaleCreate(p, row)) await cleanCreate(p, row);
    return;
  }
  const dom = p.domains.get(row.id);
  if (!dom) markGone(p, row);
  else syncStatus(p, row, dom);
}
