// reconcile(core): brings the vms table and libvirt's berth-marked domains back in step, and says what it did.
import { instanceId } from "../../db/host-meta.ts";
import { reconcileVmsPage } from "../../db/reconcile.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { now } from "../time.ts";
import { slicer, yieldToLoop } from "../yield.ts";
import { type MarkedDomain, scanDomains } from "./marks.ts";
import { reconcileOrphan } from "./orphans.ts";
import { emptyReport, type ReconcileReport } from "./report.ts";
import { type PassContext, reconcileRow } from "./rows.ts";
import { errorText } from "./steps.ts";

export type { ReconcileReport } from "./report.ts";

/** A `creating` row older than this with no operation on it was left by a crash. */
export const STALE_CREATE_MS = 10 * 60_000;

/** When this process started: rows created earlier cannot belong to one of its running creates. */
const BOOTED_AT = performance.timeOrigin;

/** Rows read per query: a pass walks the vms table by name in pages this size. */
const PAGE_ROWS = 256;

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
  list: MarkedDomain[],
  report: ReconcileReport,
  instance: string,
): { byId: Map<string, MarkedDomain>; ambiguous: Set<string> } {
  const claims = new Map<string, MarkedDomain[]>();
  for (const d of list) {
    const mark = d.mark;
    if (!mark) continue;
    if (mark.error) log.warn("reconcile: unreadable berth metadata", { domain: d.name, error: mark.error });
    // Another berth installation's domain (a second berth on this libvirtd): never ours to touch.
    else if (mark.instance && mark.instance !== instance) continue;
    if (mark.id) {
      const prev = claims.get(mark.id);
      if (prev) prev.push(d);
      else claims.set(mark.id, [d]);
    } else report.skipped.push({ target: `domain/${d.name}`, reason: "berth metadata without an id" });
  }
  const byId = new Map<string, MarkedDomain>();
  const ambiguous = new Set<string>();
  for (const [id, doms] of claims) {
    if (doms.length === 1) {
      byId.set(id, doms[0] as MarkedDomain);
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
 * libvirt is read in bulk (one stats call, marks only for domains not seen before on this connection),
 * and the rows are walked in slices that yield to the event loop, so requests keep being served.
 */
export async function reconcile(core: Core, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const report = emptyReport(now());
  const listedAt = now();
  const only = opts.domains;
  const scanned = await scanDomains(core);
  const list = only ? scanned.filter((d) => only(d.name)) : scanned;
  // By name, so reports (and the order orphans are handled in) do not depend on libvirt's listing order.
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  await yieldToLoop();
  const { byId: domains, ambiguous } = berthDomains(list, report, instanceId(core.db));
  await yieldToLoop();
  const p: PassContext = {
    core,
    report,
    domains,
    listedAt,
    staleCreateMs: opts.staleCreateMs ?? STALE_CREATE_MS,
    bootedAt: opts.bootedAt ?? BOOTED_AT,
    ...(only ? { only } : {}),
  };
  const checkpoint = slicer();
  const known = new Set<string>();
  let vms = 0;
  for (let after = ""; ; ) {
    const page = reconcileVmsPage(core.db, after, PAGE_ROWS);
    if (page.length === 0) break;
    after = (page.at(-1) as (typeof page)[number]).name;
    for (const row of page) {
      known.add(row.id);
      if (ambiguous.has(row.id)) continue;
      vms++;
      try {
        await reconcileRow(p, row);
      } catch (e) {
        report.errors.push({ target: `vm/${row.name}`, message: errorText(e) });
      }
      await checkpoint();
    }
  }
  report.checked = { vms, domains: domains.size };
  for (const [id, dom] of domains) {
    if (known.has(id)) continue;
    try {
      await reconcileOrphan(p, id, dom);
    } catch (e) {
      report.errors.push({ target: `domain/${dom.name}`, message: errorText(e) });
    }
    await checkpoint();
  }
  report.finished_at = now();
  return report;
}
