// Bulk domain reads for reconcile: every domain's name, UUID and state in one call, berth's mark only where asked.
import {
  allDomainStats,
  type Connection,
  type Domain,
  type DomainState,
  DomainStatsTypes,
  domainStateName,
  isNoSuchDomain,
} from "../../../ffi/index.ts";
import { readBerthMark } from "../../../xml/domain-read.ts";

export interface ScannedDomain {
  name: string;
  uuid: string;
  state: DomainState;
}

/**
 * What a domain's berth metadata says: null when it has none; `id` null when the element is not a berth
 * mark with an id (`error` when it could not be parsed at all).
 */
export type MarkRead = { id: string | null; instance: string | null; error?: string } | null;

/** Reads and parses the mark here, in the Worker, so the HTTP thread never parses thousands of them. */
function markOf(d: Domain, uri: string): MarkRead {
  const xml = d.metadata(uri);
  if (xml === null) return null;
  try {
    const mark = readBerthMark(xml);
    return { id: mark?.id ?? null, instance: mark?.instance ?? null };
  } catch (e) {
    return { id: null, instance: null, error: e instanceof Error ? e.message : String(e) };
  }
}

export const domainScanOps = {
  /**
   * One virConnectGetAllDomainStats (state group) for every domain; then berth's mark for at most
   * `maxReads` domains whose UUID is not in `known` (newline-separated), so one call stays short. The
   * UUIDs still unread come back in `unread` for `domain.marks`.
   */
  "domain.scan"(
    c: Connection,
    a: { metadataUri: string; known: string; maxReads: number },
  ): { domains: ScannedDomain[]; marks: [string, MarkRead][]; unread: string[] } {
    const known = new Set(a.known ? a.known.split("\n") : []);
    const domains: ScannedDomain[] = [];
    const marks: [string, MarkRead][] = [];
    const unread: string[] = [];
    for (const rec of allDomainStats(c, DomainStatsTypes.STATE)) {
      using d = rec.domain;
      const uuid = d.uuid();
      const state = domainStateName(Number(rec.params.get("state.state") ?? 0));
      if (!known.has(uuid)) {
        if (marks.length >= a.maxReads) unread.push(uuid);
        else {
          try {
            marks.push([uuid, markOf(d, a.metadataUri)]);
          } catch (e) {
            // Undefined since the listing: it is simply not there any more.
            if (isNoSuchDomain(e)) continue;
            throw e;
          }
        }
      }
      domains.push({ name: d.name(), uuid, state });
    }
    return { domains, marks, unread };
  },
  /** berth's mark of each domain by UUID; a domain undefined meanwhile is listed in `missing`. */
  "domain.marks"(
    c: Connection,
    a: { metadataUri: string; uuids: string[] },
  ): { marks: [string, MarkRead][]; missing: string[] } {
    const marks: [string, MarkRead][] = [];
    const missing: string[] = [];
    for (const uuid of a.uuids) {
      try {
        using d = c.domainByUUID(uuid);
        marks.push([uuid, markOf(d, a.metadataUri)]);
      } catch (e) {
        if (!isNoSuchDomain(e)) throw e;
        missing.push(uuid);
      }
    }
    return { marks, missing };
  },
};
