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

/** domain.scan's answer: names NUL-separated, UUIDs concatenated (36 characters each), states by index. */
export interface ScanResult {
  names: string;
  uuids: string;
  states: Uint8Array;
  marks: [string, MarkRead][];
  unread: string[];
}

/** Unpacks domain.scan's columns. */
export function scannedDomains(r: Pick<ScanResult, "names" | "uuids" | "states">): ScannedDomain[] {
  if (r.states.length === 0) return [];
  const names = r.names.split("\0");
  return names.map((name, i) => ({
    name,
    uuid: r.uuids.slice(i * 36, i * 36 + 36),
    state: domainStateName(r.states[i] ?? 0),
  }));
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
  "domain.scan"(c: Connection, a: { metadataUri: string; known: string; maxReads: number }): ScanResult {
    const known = new Set(a.known ? a.known.split("\n") : []);
    const names: string[] = [];
    const uuids: string[] = [];
    const states: number[] = [];
    const marks: [string, MarkRead][] = [];
    const unread: string[] = [];
    for (const rec of allDomainStats(c, DomainStatsTypes.STATE)) {
      using d = rec.domain;
      const uuid = d.uuid();
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
      names.push(d.name());
      uuids.push(uuid);
      states.push(Number(rec.params.get("state.state") ?? 0));
    }
    // Columns, not one object per domain: 10 000 domains cross to the HTTP thread as two strings and a byte array.
    return { names: names.join("\0"), uuids: uuids.join(""), states: Uint8Array.from(states), marks, unread };
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
