// reconcile(core): brings the vms table and libvirt's berth-marked domains back in step, and says what it did.
import { instanceId } from "../../db/host-meta.ts";
import { reconcileVms } from "../../db/reconcile.ts";
import { log } from "../../log.ts";
import { BERTH_NS } from "../../xml/domain.ts";
import { readBerthMark } from "../../xml/domain-read.ts";
import type { Core } from "../context.ts";
import type { DomainSummary } from "../hypervisor/ops/domain-ops.ts";
import { now } from "../time.ts";
import { reconcileOrphan } from "./orphans.ts";
import { emptyReport, type ReconcileReport } from "./report.ts";
import { type PassContext, reconcileRow } from "./rows.ts";
import { errorText } from "./steps.ts";

export type { ReconcileReport } from "./report.ts";

/** A `creating` row older than this with no operation on it was left by a crash. */
export const STALE_CREATE_MS = 10 * 60_000;

/** When this process started: rows created earlier cannot belong to one of its running creates. */
const BOOTED_AT = performance.timeOrigin;

export interface ReconcileOptions {
  staleCreateMs?: number;
  bootedAt?: number;
  /**
   * Only domains whose name passes are looked at; the rest count as absent. For tests that share a
   * libvirtd with other berths: berth itself owns its host and looks at every domain.
   */
  domains?: (name: string) => boolean;
}

/**
 * berth-marked domains by the id in their metadata; domains without berth metadata are not even
 * looked at. An id two domains claim is ambiguous: neither domain nor its row is acted on.
 */
function berthDomains(
  list: DomainSummary[],
  report: ReconcileReport,
  instance: string,
): { byId: Map<string, DomainSummary>; ambiguous: Set<string> } {
  const claims = new Map<string, DomainSummary[]>();
  for (const d of list) {
    if (!d.metadata) continue;
    let id: string | null = null;
    try {
      const mark = readBerthMark(d.metadata);
      // Another berth installation's domain (a second berth on this libvirtd): never ours to touch.
      if (mark?.instance && mark.instance !== instance) continue;
      id = mark?.id ?? null;
    } catch (e) {
      log.warn("reconcile: unreadable berth metadata", { domain: d.name, error: errorText(e) });
    }
    if (id) claims.set(id, [...(claims.get(id) ?? []), d]);
    else report.skipped.push({ target: `domain/${d.name}`, reason: "berth metadata without an id" });
  }
  const byId = new Map<string, DomainSummary>();
  const ambiguous = new Set<string>();
  for (const [id, doms] of claims) {
    if (doms.length === 1) {
      byId.set(id, doms[0] as DomainSummary);
      continue;
    }
    ambiguous.add(id);
    const names = doms.map((d) => d.name).join(", ");
    for (const d of doms) {
      report.skipped.push({ target: `domain/${d.name}`, reason: `berth id ${id} is carried by ${names}` });
    }
  }
  return { byId, ambiguous };
}

/**
 * One pass: every row is checked against the domain carrying its id, then every berth-marked domain
 * without a row is handled per `reconcile.orphans`. A failing step is reported and the pass goes on;
 * only a failure to list libvirt's domains fails the whole pass (nothing is judged on partial facts).
 */
export async function reconcile(core: Core, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const report = emptyReport(now());
  const listedAt = now();
  const only = opts.domains;
  const list = (await core.hv.call("domain.list", { metadataUri: BERTH_NS })).filter(
    (d) => !only || only(d.name),
  );
  // By name, so reports (and the order orphans are handled in) do not depend on libvirt's listing order.
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { byId: domains, ambiguous } = berthDomains(list, report, instanceId(core.db));
  const rows = reconcileVms(core.db).filter((r) => !ambiguous.has(r.id));
  report.checked = { vms: rows.length, domains: domains.size };
  const p: PassContext = {
    core,
    report,
    domains,
    listedAt,
    staleCreateMs: opts.staleCreateMs ?? STALE_CREATE_MS,
    bootedAt: opts.bootedAt ?? BOOTED_AT,
  };
  for (const row of rows) {
    try {
      await reconcileRow(p, row);
    } catch (e) {
      report.errors.push({ target: `vm/${row.name}`, message: errorText(e) });
    }
  }
  const known = new Set(rows.map((r) => r.id));
  for (const [id, dom] of domains) {
    if (known.has(id)) continue;
    try {
      await reconcileOrphan(p, id, dom);
    } catch (e) {
      report.errors.push({ target: `domain/${dom.name}`, message: errorText(e) });
    }
  }
  report.finished_at = now();
  return report;
}
