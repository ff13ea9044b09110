// virConnectGetAllDomainStats: every domain and the asked-for stats groups in one call (one RPC on libvirtd).
import { type Pointer, read } from "bun:ffi";
import type { Connection } from "./connect.ts";
import { Domain } from "./domain.ts";
import { check, lastError } from "./error.ts";
import { RAW } from "./handle.ts";
import { sym } from "./lib.ts";
import { borrowString, outCell } from "./strings.ts";

/** virDomainStatsTypes bits (the groups of virConnectGetAllDomainStats). */
export const DomainStatsTypes = { STATE: 1 } as const;

/** virConnectGetAllDomainStatsFlags that select domains; 0 means every domain, active or not. */
export const GetAllDomainStatsFlags = { ACTIVE: 1, INACTIVE: 2, PERSISTENT: 4, TRANSIENT: 8 } as const;

export type TypedValue = number | bigint | boolean | string;

export interface DomainStatsRecord {
  /** Its own reference (virDomainRef), so it outlives the record list; dispose it. */
  domain: Domain;
  params: Map<string, TypedValue>;
}

/** sizeof(virTypedParameter) on LP64: char field[80], int type, 4 bytes padding, an 8-byte union. */
const PARAM_SIZE = 96;

/** Reads one virTypedParameter; the memory stays libvirt's (freed with the record list). */
function readParam(p: Pointer, at: number): [string, TypedValue] | null {
  const field = borrowString((Number(p) + at) as Pointer);
  const value = at + 88;
  switch (read.i32(p, at + 80)) {
    case 1:
      return [field, read.i32(p, value)];
    case 2:
      return [field, read.u32(p, value)];
    case 3:
      return [field, read.i64(p, value)];
    case 4:
      return [field, read.u64(p, value)];
    case 5:
      return [field, read.f64(p, value)];
    case 6:
      return [field, read.i8(p, value) !== 0];
    case 7:
      return [field, borrowString(read.ptr(p, value) as Pointer)];
    default:
      return null;
  }
}

/**
 * virConnectGetAllDomainStats(stats, flags). The NULL-terminated record list is ours: each record's
 * domain gets its own reference and its params are copied, then virDomainStatsRecordListFree frees it all.
 */
export function allDomainStats(conn: Connection, stats: number, flags = 0): DomainStatsRecord[] {
  const cell = outCell();
  const n = sym.virConnectGetAllDomainStats(conn[RAW](), stats, cell, flags);
  if (n < 0) throw lastError();
  const list = Number(cell[0]) as Pointer;
  if (!list) return [];
  const out: DomainStatsRecord[] = [];
  try {
    for (let i = 0; i < n; i++) {
      // A record: virDomainPtr dom @0, virTypedParameterPtr params @8, int nparams @16.
      const rec = read.ptr(list, i * 8) as Pointer;
      const dom = read.ptr(rec, 0) as Pointer;
      check(sym.virDomainRef(dom));
      const domain = new Domain(dom);
      const params = new Map<string, TypedValue>();
      const ps = read.ptr(rec, 8) as Pointer;
      const np = read.i32(rec, 16);
      for (let j = 0; j < np; j++) {
        const kv = readParam(ps, j * PARAM_SIZE);
        if (kv) params.set(kv[0], kv[1]);
      }
      out.push({ domain, params });
    }
  } catch (e) {
    for (const r of out) r.domain.free();
    throw e;
  } finally {
    sym.virDomainStatsRecordListFree(list);
  }
  return out;
}
