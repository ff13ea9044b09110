// Reconcile rules for each vms row: vanished domain → gone, crashed create → cleaned, state → in step.

import { hasRunningOperation, lastOperationOn } from "../../db/operations.ts";
import {
  deleteVmRow,
  diskVolumesOf,
  type ReconcileVmRow,
  reconcileVmById,
  setVmStatusIfUnchanged,
} from "../../db/reconcile.ts";
import { log } from "../../log.ts";
import { SYSTEM } from "../auth/access.ts";
import type { Core } from "../context.ts";
import { now } from "../time.ts";
import { deleteVmOp } from "../vms/delete.ts";
import { removeDomain } from "../vms/domain.ts";
import { installVolumesOf } from "../vms/install-boot.ts";
import { vmTarget } from "../vms/records.ts";
import { deleteOwnVolume, deleteVolume, ownsVolume } from "../vms/volumes.ts";
import type { MarkedDomain } from "./marks.ts";
import { forgetMark } from "./marks.ts";
import type { ReconcileReport } from "./report.ts";
import { SYNCED_STATUSES, statusForState } from "./status.ts";
import { asOperation, domainHasBerthId, domainUuidCarrying } from "./steps.ts";

export interface PassContext {
  core: Core;
  report: ReconcileReport;
  /** berth-marked domains by the berth id in their metadata. */
  domains: Map<string, MarkedDomain>;
  /** When libvirt was listed: a row updated later than this knows better than the listing. */
  listedAt: string;
  /** A `creating` row older than this (ms) with nothing working on it is a crashed create. */
  staleCreateMs: number;
  /** Rows created before this process started cannot belong to a create still running. */
  bootedAt: number;
  /** ReconcileOptions.domains: domains whose name fails count as absent. */
  only?: (name: string) => boolean;
}

function isStaleCreate(p: PassContext, row: ReconcileVmRow): boolean {
  const target = vmTarget(row.name);
  if (hasRunningOperation(p.core.db, target)) return false;
  const created = Date.parse(row.created_at);
  if (created < p.bootedAt || Date.now() - created > p.staleCreateMs) return true;
  // Its create ended and left the row (an undo failed, see forgetCreated): the cleanup is reconcile's now.
  const last = lastOperationOn(p.core.db, target);
  return last?.kind === "vm.create" && last.created_at >= row.created_at;
}

/** Removes what a crashed create left: its domain (if still berth's), its own volumes, its row. */
async function cleanCreate(p: PassContext, row: ReconcileVmRow): Promise<void> {
  const { core } = p;
  const dom = p.domains.get(row.id);
  const done = await asOperation(core, "vm.cleanup", vmTarget(row.name), async () => {
    if (reconcileVmById(core.db, row.id)?.status !== "creating") return false;
    if (dom && (await domainHasBerthId(core, dom.name, row.id))) await removeDomain(core, dom.name);
    const disks = diskVolumesOf(core.db, row.id).filter((d) => ownsVolume(row.id, d));
    for (const d of disks) await deleteOwnVolume(core, core.config.storage.pool, d);
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

/**
 * Marks are cached: before a row is declared gone, the domain of its name is read afresh. One that still
 * carries the row's id means the cache was stale (a mark rewritten without a lifecycle event): it is
 * forgotten and read again next pass, and the row is left as it is.
 */
async function markGone(p: PassContext, row: ReconcileVmRow): Promise<void> {
  const uuid = !p.only || p.only(row.name) ? await domainUuidCarrying(p.core, row.name, row.id) : null;
  if (uuid !== null) {
    forgetMark(p.core.hv, uuid);
    p.report.skipped.push({
      target: vmTarget(row.name),
      reason: "its domain's mark changed during the pass",
    });
    return;
  }
  const at = now();
  if (!setVmStatusIfUnchanged(p.core.db, row.id, row.status, p.listedAt, "gone", at)) return;
  log.warn("reconcile: vm's domain vanished, marked gone", { name: row.name, id: row.id });
  p.core.events.publish("vm.gone", vmTarget(row.name), { id: row.id, previous: row.status });
  p.report.gone.push(row.name);
}

function syncStatus(p: PassContext, row: ReconcileVmRow, dom: MarkedDomain): void {
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

/** The VM's last operation is a delete that a crash cut short (marked interrupted at start). */
function deleteWasInterrupted(p: PassContext, row: ReconcileVmRow): boolean {
  const last = lastOperationOn(p.core.db, vmTarget(row.name));
  if (last?.kind !== "vm.delete" || last.status !== "failed" || !last.error) return false;
  return (JSON.parse(last.error) as { code?: string }).code === "interrupted";
}

/** Finishes the delete the user (or a pool) asked for: domain, own volumes and row, as a new vm.delete. */
async function finishDelete(p: PassContext, row: ReconcileVmRow): Promise<void> {
  const op = deleteVmOp(p.core, SYSTEM, row.name);
  const done = await p.core.ops.wait(op.id, 120);
  if (done.status !== "succeeded") {
    p.report.errors.push({ target: vmTarget(row.name), message: done.error?.message ?? done.status });
    return;
  }
  log.warn("reconcile: finished a delete interrupted by a crash", { name: row.name, id: row.id });
  p.report.cleaned.push(row.name);
}

/** Applies the rules to one row. Every database change re-checks the row, so a racing action wins. */
export async function reconcileRow(p: PassContext, row: ReconcileVmRow): Promise<void> {
  const holder = p.core.locks.holder(vmTarget(row.name));
  if (holder) {
    if (row.status !== "gone")
      p.report.skipped.push({ target: vmTarget(row.name), reason: `operation ${holder} is running` });
    return;
  }
  // Otherwise a delete cut short after the domain went would leave a `gone` row holding its volumes.
  if (row.status !== "creating" && deleteWasInterrupted(p, row)) return finishDelete(p, row);
  if (row.status === "gone") return;
  if (row.status === "creating") {
    if (isStaleCreate(p, row)) await cleanCreate(p, row);
    return;
  }
  const dom = p.domains.get(row.id);
  if (!dom) await markGone(p, row);
  else syncStatus(p, row, dom);
}
