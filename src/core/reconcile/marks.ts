// berth's marks on libvirt's domains, read in bulk and cached by UUID for the life of the hypervisor connection.
import { HypervisorUnavailable } from "../../errors.ts";
import { BERTH_NS } from "../../xml/domain.ts";
import type { Core } from "../context.ts";
import type { Hypervisor } from "../hypervisor/client.ts";
import { type MarkRead, type ScannedDomain, scannedDomains } from "../hypervisor/ops/domain-scan.ts";
import { refreshStates, vmStates } from "../vms/state-map.ts";
import { slicer } from "../yield.ts";

export type { MarkRead } from "../hypervisor/ops/domain-scan.ts";

/** A domain as a pass sees it: its state read now, its mark from the cache or read now. */
export interface MarkedDomain extends ScannedDomain {
  mark: MarkRead;
}

/** Marks read per hypervisor call: one call stays a few tens of ms on libvirtd, so other calls interleave. */
export const MARK_READS_PER_CALL = 256;

interface MarkCache {
  marks: Map<string, MarkRead>;
  /** Bumped by every invalidation; a scan stores only what no invalidation since its start touched. */
  epoch: number;
  clearedAt: number;
  dirty: Map<string, number>;
  /** Domains whose mark berth rewrote, by name, with the epoch of the rewrite. */
  dirtyNames: Map<string, number>;
  /** UUID by domain name, as the last scan listed them. */
  uuids: Map<string, string>;
  scans: number;
}

const caches = new WeakMap<Hypervisor, MarkCache>();

/**
 * The cache of one hypervisor client. A domain (re)defined or undefined (libvirt's lifecycle event) is read
 * again; a connection going down forgets everything, since the next one may be to another libvirtd.
 */
function cacheOf(hv: Hypervisor): MarkCache {
  const found = caches.get(hv);
  if (found) return found;
  const c: MarkCache = {
    marks: new Map(),
    epoch: 0,
    clearedAt: 0,
    dirty: new Map(),
    dirtyNames: new Map(),
    uuids: new Map(),
    scans: 0,
  };
  hv.onLifecycle((e) => {
    if (e.event === "defined" || e.event === "undefined") forgetMark(hv, e.uuid);
  });
  hv.onState((state) => {
    if (state === "up") return;
    c.marks.clear();
    c.dirty.clear();
    c.dirtyNames.clear();
    c.uuids.clear();
    c.clearedAt = ++c.epoch;
  });
  caches.set(hv, c);
  return c;
}

/** Drops one domain's cached mark (berth rewrote it, or a pass found it stale). */
export function forgetMark(hv: Hypervisor, uuid: string): void {
  const c = cacheOf(hv);
  c.marks.delete(uuid);
  c.dirty.set(uuid, ++c.epoch);
}

/** Drops the cached mark of domain `name`: berth has just rewritten it (setMetadata fires no lifecycle event). */
export function forgetMarkNamed(hv: Hypervisor, name: string): void {
  const c = cacheOf(hv);
  const uuid = c.uuids.get(name);
  if (uuid) c.marks.delete(uuid);
  c.dirtyNames.set(name, ++c.epoch);
}

/** How many marks are cached (for tests and benchmarks). */
export function cachedMarks(hv: Hypervisor): number {
  return cacheOf(hv).marks.size;
}

/**
 * Every domain with its state (one virConnectGetAllDomainStats) and berth's mark: cached ones as they
 * are, the others read in calls of MARK_READS_PER_CALL. Domains undefined meanwhile are left out.
 */
export async function scanDomains(core: Core): Promise<MarkedDomain[]> {
  const c = cacheOf(core.hv);
  const start = c.epoch;
  c.scans++;
  const states = vmStates(core.hv);
  const since = states.mark();
  try {
    const scan = await core.hv.call("domain.scan", {
      metadataUri: BERTH_NS,
      known: [...c.marks.keys()].join("\n"),
      maxReads: MARK_READS_PER_CALL,
    });
    // The cache may forget entries while the reads below await: this pass uses the marks as they are now.
    const marks = new Map<string, MarkRead>(scan.marks);
    const need: string[] = [];
    const domains = scannedDomains(scan);
    // The same read corrects the lists' state map (an event it missed); events after `since` still win.
    refreshStates(states, domains, since);
    const checkpoint = slicer();
    for (const [i, d] of domains.entries()) {
      if ((i & 255) === 0) await checkpoint();
      if (marks.has(d.uuid)) continue;
      if (c.marks.has(d.uuid)) marks.set(d.uuid, c.marks.get(d.uuid) as MarkRead);
      else need.push(d.uuid); // unread by the scan, or forgotten while it ran
    }
    if (start < c.clearedAt)
      throw new HypervisorUnavailable("the hypervisor connection was reset during a scan");
    const fresh = new Map<string, MarkRead>(scan.marks);
    const missing = new Set<string>();
    for (let i = 0; i < need.length; i += MARK_READS_PER_CALL) {
      const r = await core.hv.call("domain.marks", {
        metadataUri: BERTH_NS,
        uuids: need.slice(i, i + MARK_READS_PER_CALL),
      });
      for (const [uuid, mark] of r.marks) {
        fresh.set(uuid, mark);
        marks.set(uuid, mark);
      }
      for (const uuid of r.missing) missing.add(uuid);
    }
    const out: MarkedDomain[] = [];
    const listed = new Set<string>();
    for (const [i, d] of domains.entries()) {
      if ((i & 255) === 0) await checkpoint();
      if (missing.has(d.uuid)) continue;
      listed.add(d.uuid);
      out.push({ name: d.name, uuid: d.uuid, state: d.state, mark: marks.get(d.uuid) ?? null });
    }
    // The connection dropped meanwhile: this pass goes on with what it read, but nothing of it is kept.
    if (start < c.clearedAt) return out;
    c.uuids.clear();
    for (const d of out) {
      c.uuids.set(d.name, d.uuid);
      // Rewritten by berth since this scan began: used as read for this pass, read again next pass.
      if ((c.dirtyNames.get(d.name) ?? -1) > start) {
        c.marks.delete(d.uuid);
        c.dirty.set(d.uuid, c.epoch);
      }
    }
    for (const [uuid, mark] of fresh) if ((c.dirty.get(uuid) ?? -1) <= start) c.marks.set(uuid, mark);
    // Undefined domains leave the cache, so it never outgrows libvirt's list.
    if (c.marks.size > listed.size)
      for (const uuid of c.marks.keys()) if (!listed.has(uuid)) c.marks.delete(uuid);
    return out;
  } finally {
    if (--c.scans === 0) {
      c.dirty.clear();
      c.dirtyNames.clear();
    }
  }
}
