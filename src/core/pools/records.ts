// How pools are looked up (by name or alias, from records cached per connection) and presented.
import type { Database } from "bun:sqlite";
import { listPoolRows, memberCounts, type PoolRow, poolsToken } from "../../db/pools.ts";
import type { Origin } from "../../db/sizes.ts";
import { NotFound } from "../../errors.ts";
import type { Core } from "../context.ts";
import { type FullPoolSpec, type PoolSpec, withDefaults } from "./spec.ts";

export interface PoolRecord {
  name: string;
  origin: Origin;
  generation: number;
  failures: number;
  spec: FullPoolSpec;
  created_at: string;
  updated_at: string;
}

export type PoolView = { name: string; origin: Origin } & FullPoolSpec & {
    generation: number;
    failures: number;
    counts: { pending: number; ready: number; checked_out: number; draining: number };
    created_at: string;
    updated_at: string;
  };

export function toPoolRecord(r: PoolRow): PoolRecord {
  return {
    name: r.name,
    origin: r.origin,
    generation: r.generation,
    failures: r.failures,
    spec: withDefaults(JSON.parse(r.spec) as PoolSpec),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

interface PoolSnapshot {
  token: string;
  byName: ReadonlyMap<string, PoolRecord>;
  /** Alias → the pools that have it, by name (a pool's name is never an alias). */
  byAlias: ReadonlyMap<string, readonly PoolRecord[]>;
}

const snapshots = new WeakMap<Database, PoolSnapshot>();

/**
 * Every pool as this connection sees it now (inside its transaction, if any): one token read when
 * nothing changed, since every write to pools, from any connection, changes the token (migration 17).
 */
function poolSnapshot(db: Database): PoolSnapshot {
  const token = poolsToken(db);
  const cached = snapshots.get(db);
  if (cached?.token === token) return cached;
  const byName = new Map<string, PoolRecord>();
  const byAlias = new Map<string, PoolRecord[]>();
  for (const row of listPoolRows(db)) {
    const p = deepFreeze(toPoolRecord(row));
    byName.set(p.name, p);
    for (const a of p.spec.alias) byAlias.set(a, [...(byAlias.get(a) ?? []), p]);
  }
  const snapshot = { token, byName, byAlias };
  snapshots.set(db, snapshot);
  return snapshot;
}

// Records are shared by every reader of the snapshot: one that changed a record would change them all.
function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object" && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Every pool, in name order (the cached records). */
export function poolRecords(core: Core): PoolRecord[] {
  return [...poolSnapshot(core.db).byName.values()];
}

/** The pool named exactly `name`, or null (from the cached records: one token read when nothing changed). */
export function poolNamed(core: Core, name: string): PoolRecord | null {
  return poolSnapshot(core.db).byName.get(name) ?? null;
}

/** The pool named exactly `name`, or NotFound. */
export function findPool(core: Core, name: string): PoolRecord {
  const p = poolNamed(core, name);
  if (!p) throw new NotFound(`pool ${name} does not exist`);
  return p;
}

/**
 * The pools a checkout name means: the pool of that name, else every pool that has it as an alias
 * (an alias may cover several pools, as in vmpooler); empty when neither.
 */
export function resolvePools(core: Core, nameOrAlias: string): PoolRecord[] {
  const pools = poolSnapshot(core.db);
  const p = pools.byName.get(nameOrAlias);
  if (p) return [p];
  return [...(pools.byAlias.get(nameOrAlias) ?? [])];
}

export const poolTarget = (name: string) => `pool/${name}`;

export function poolView(core: Core, p: PoolRecord): PoolView {
  const counts = memberCounts(core.db, p.name);
  return {
    name: p.name,
    origin: p.origin,
    ...p.spec,
    generation: p.generation,
    failures: p.failures,
    counts,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}
