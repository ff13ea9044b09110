// Each VM's list JSON, encoded once per revision of its row (SQLite triggers bump it on every write), split around its live state.

import type { Database } from "bun:sqlite";
import { type VmListRow, vmRowsByIds } from "../../db/vm-list.ts";
import type { Core } from "../context.ts";
import { publicView } from "./read.ts";
import { networkInfo, present, type Vm } from "./records.ts";

/** A VM's JSON as `head + JSON(state) + tail` for one revision of its row; its public view made on first demand. */
export interface Encoded {
  rev: number;
  head: string;
  tail: string;
  public?: { head: string; tail: string };
}

/** The JSON of `vm` cut where its state goes: the state is the one field that is not in SQLite. */
function split(json: string): { head: string; tail: string } {
  // No string value can hold a bare quote, and state comes before tags: the first match is the field.
  const mark = ',"state":""';
  const at = json.indexOf(mark);
  if (at < 0) throw new Error("a VM's JSON has no state field");
  return { head: json.slice(0, at + mark.length - 2), tail: json.slice(at + mark.length) };
}

/**
 * `vm` as JSON, as the route's response schema answered it before lists were pre-encoded (the app runs
 * with normalize off: keys in present()'s order); test/unit/routes/vm-list.test.ts holds them byte for byte.
 */
const encodeVm = (vm: Vm): string => JSON.stringify(vm);

const caches = new WeakMap<Database, Map<string, Encoded>>();

function cacheOf(db: Database): Map<string, Encoded> {
  let c = caches.get(db);
  if (!c) {
    c = new Map();
    caches.set(db, c);
  }
  return c;
}

/**
 * The encoded VMs of `rows`, in their order, encoding those whose revision changed since they were cached.
 * A VM that went between the listing and its read is left out (null).
 */
export function encodedVms(core: Core, rows: VmListRow[]): (Encoded | null)[] {
  const cache = cacheOf(core.db);
  const missing: string[] = [];
  for (const r of rows) if (cache.get(r.id)?.rev !== r.rev) missing.push(r.id);
  if (missing.length > 0) {
    const { rows: full, disks, nics } = vmRowsByIds(core.db, missing);
    const networks = networkInfo(core);
    for (const row of full) {
      const vm = present(row, disks.get(row.id) ?? [], nics.get(row.id) ?? [], "" as never, networks);
      cache.set(row.id, { rev: (row as { rev?: number }).rev ?? 0, ...split(encodeVm(vm)) });
    }
  }
  return rows.map((r) => cache.get(r.id) ?? null);
}

/** The public view's JSON pieces of an encoded VM, made from its whole JSON once (only public readers need it). */
export function publicPieces(e: Encoded): { head: string; tail: string } {
  if (!e.public) {
    const vm = JSON.parse(`${e.head}""${e.tail}`) as Vm;
    e.public = split(encodeVm(publicView(vm)));
  }
  return e.public;
}

/** Drops the entries of VMs that are not in `present` (a complete listing): deleted VMs leave the cache. */
export function pruneEncoded(db: Database, present: VmListRow[]): void {
  const cache = cacheOf(db);
  if (cache.size <= present.length) return;
  const keep = new Set(present.map((r) => r.id));
  for (const id of cache.keys()) if (!keep.has(id)) cache.delete(id);
}
